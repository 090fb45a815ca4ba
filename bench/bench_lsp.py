"""The language server's latency: run by hand (``python bench/bench_lsp.py``); prints figures,
asserts nothing.

On the 1,000-step spec of ``bench_validate.generate``, measured in one run:

- the baseline: the same analysis in this process (load, validate, index; best of a few),
  which is the floor of any publish, and ``jsonschema`` alone on the parsed data beside it;
- the real server (``flowspec lsp`` over stdio, pygls' client): time from sending a one-line
  ``didChange`` to receiving that version's ``publishDiagnostics`` (the 50 ms debounce
  included), over ``--edits`` edits, median and worst;
- completion (a step's outputs in ``when``, a processor, a key) and hover (a step reference,
  a key) round trips once the edit is analysed, and completion and hover sent right after an
  edit to another line, before its analysis; the whole document's semantic tokens;
- the server's resident memory after the first 10 edits and after the last.

The issue's targets are printed next to each figure: diagnostics within 300 ms of an edit;
completion and hover within 50 ms; memory flat over the edits.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from lsprotocol import types
from pygls.lsp.client import LanguageClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_validate import best_time, generate

from engine.loader import load_text
from engine.lsp.analysis import analyze
from engine.schema import load_schema

STEPS = 1_000


def rss_mib(pid: int) -> float:
    """Resident memory of a process (Linux), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def position(text: str, needle: str, offset: int) -> types.Position:
    index = text.index(needle) + offset
    return types.Position(text.count("\n", 0, index), index - text.rfind("\n", 0, index) - 1)


async def round_trips(call: Callable[[], Awaitable[Any]], times: int) -> float:
    """Median seconds of ``times`` calls, after one to warm up."""
    await call()
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        await call()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


async def session(text: str, edits: int, requests: int) -> None:
    client = LanguageClient("bench", "1")
    published: asyncio.Queue[tuple[float, int | None, int]] = asyncio.Queue()

    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        published.put_nowait((time.perf_counter(), params.version, len(params.diagnostics)))

    client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(on_publish)
    await client.start_io(sys.executable, "-m", "engine.cli.main", "lsp", cwd=str(REPO))
    pid = client._server.pid if client._server else 0  # the server process, for its memory

    async def diagnostics_of(version: int) -> tuple[float, int]:
        while True:
            at, got, count = await asyncio.wait_for(published.get(), 60)
            if got == version:
                return at, count

    try:
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=REPO.as_uri()))
        client.initialized(types.InitializedParams())
        uri = (REPO / "bench.flowspec.yaml").as_uri()
        doc = types.TextDocumentIdentifier(uri)
        started = time.perf_counter()
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, "yaml", 1, text)))
        at, count = await diagnostics_of(1)
        print(f"    open -> diagnostics       {(at - started) * 1000:9.1f} ms   ({count} diagnostics)")

        line = position(text, "      SHARD: '500'", 0).line
        latencies, rss_early = [], 0.0
        for version in range(2, edits + 2):
            change = types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(line, 14), types.Position(line, 17)),
                text=f"{version:03d}"[-3:])
            started = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version, uri), [change]))
            at, _ = await diagnostics_of(version)
            latencies.append(at - started)
            if version == 11:
                rss_early = rss_mib(pid)
        rss_late = rss_mib(pid)
        print(f"    didChange -> diagnostics  {statistics.median(latencies) * 1000:9.1f} ms median, "
              f"{max(latencies) * 1000:.1f} ms worst of {edits}   target <= 300 ms")

        def completion(needle: str, offset: int) -> Callable[[], Awaitable[Any]]:
            where = position(text, needle, offset)
            return lambda: client.text_document_completion_async(
                types.CompletionParams(doc, where))

        def hover(needle: str, offset: int) -> Callable[[], Awaitable[Any]]:
            where = position(text, needle, offset)
            return lambda: client.text_document_hover_async(types.HoverParams(doc, where))

        cases = {
            "completion steps.X.outputs.": completion(
                "when: steps.step-997.outputs.count", len("when: steps.step-997.outputs.")),
            "completion processor": completion("    processor: noop", len("    processor: ")),
            "completion key": completion("    timeout: 90s", 4),
            "hover step reference": hover("when: steps.step-997", len("when: steps.") + 3),
            "hover key": hover("    timeout: 90s", 6),
        }
        for label, call in cases.items():
            median = await round_trips(call, requests)
            print(f"    {label:<26}{median * 1000:9.1f} ms median of {requests}   target <= 50 ms")
        median = await round_trips(lambda: client.text_document_semantic_tokens_full_async(
            types.SemanticTokensParams(doc)), requests)
        print(f"    {'semantic tokens (whole)':<26}{median * 1000:9.1f} ms median of {requests}"
              "   (no target)")

        version = edits + 2
        for label in ("completion steps.X.outputs.", "hover step reference"):
            fresh = []
            for _ in range(5):
                client.text_document_did_change(types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(version, uri),
                    [types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(line, 14), types.Position(line, 17)),
                        text=f"{version:03d}"[-3:])]))
                started = time.perf_counter()
                await cases[label]()
                fresh.append(time.perf_counter() - started)
                await diagnostics_of(version)
                version += 1
            print(f"    {label:<26}{statistics.median(fresh) * 1000:9.1f} ms median of 5"
                  " right after an edit   target <= 50 ms")
        print(f"    server memory             {rss_early:9.1f} MiB after 10 edits, "
              f"{rss_late:.1f} MiB after {edits}   target: flat")
        await client.shutdown_async(None)
    finally:
        client.exit(None)
        await client.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    text = generate(STEPS)
    doc, _ = load_text(text, "bench.yaml")
    assert doc is not None
    validator = Draft202012Validator(load_schema())
    analysis = best_time(lambda: analyze(text, "bench.yaml"), args.repeats)
    alone = best_time(lambda: list(validator.iter_errors(doc.data)), args.repeats)
    print(f"{STEPS} steps ({len(text) / 1e6:.2f} MB of YAML):")
    print(f"    baseline: analysis in process {analysis * 1000:7.1f} ms (load, validate, index)")
    print(f"    baseline: jsonschema alone    {alone * 1000:7.1f} ms (parsed data)")
    asyncio.run(session(text, args.edits, args.requests))


if __name__ == "__main__":
    main()
