"""``flowspec ui``: the run list and each run's page on a local web server, read-only.

It binds 127.0.0.1 by default and answers only requests addressed to loopback; no login is
needed there. Serving other interfaces exposes every run's params and outputs to whoever can
reach them, so it takes an explicit ``--host`` (and is said on stderr). ``--port 0`` picks a
free port. The server runs until Ctrl-C.

Exit 0 after Ctrl-C; 2 for a store that cannot be read or an address that cannot be bound.
"""

from __future__ import annotations

import argparse
import sys

from engine.cli.run import EXIT_OK, add_store_argument, fail

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is between 0 and 65535 (0: any free port)")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_store_argument(p)
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, metavar="N",
                   help=f"port to listen on (default {DEFAULT_PORT}; 0: any free port)")
    p.add_argument("--host", default=None, metavar="H",
                   help=f"interface to listen on (default {DEFAULT_HOST}); anything else "
                        "serves every run to whoever can reach it, without a login")


def main(args: argparse.Namespace) -> int:
    from engine.report.server import LOOPBACK, UiServer
    from engine.store import StoreError, open_store

    host = args.host or DEFAULT_HOST
    try:
        store = open_store(args.db, create=False)
        shown = store.display_url
        store.close()
    except StoreError as exc:
        return fail("ui", str(exc))
    try:
        server = UiServer(host, args.port, args.db)
    except OSError as exc:
        return fail("ui", f"cannot listen on {host}:{args.port}: {exc.strerror or exc}")
    if host not in LOOPBACK:
        print(f"flowspec ui: serving {host}, not loopback: anyone who can reach it sees every "
              "run, without a login", file=sys.stderr)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    name = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(f"flowspec ui: http://{name}:{bound_port}/ serving {shown} (Ctrl-C stops it)",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_OK
