"""``flowspec lsp``: the language server, over stdio, for any editor with an LSP client."""

from __future__ import annotations

import argparse
import sys

INSTALL_HINT = "pip install 'flowspec[lsp]'"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def main(args: argparse.Namespace) -> int:
    try:
        from engine.lsp.server import build_server
    except ImportError as exc:
        if exc.name not in ("pygls", "lsprotocol") and not str(exc.name).startswith("pygls."):
            raise
        print(f"flowspec lsp: the language server needs pygls, an optional dependency: "
              f"{INSTALL_HINT}", file=sys.stderr)
        return 2
    build_server().start_io()
    return 0
