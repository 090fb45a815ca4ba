"""``flowspec step``: the in-pod runner (see engine.runner); Argo runs it in every step's pod."""

from __future__ import annotations

import argparse
import os


def add_arguments(p: argparse.ArgumentParser) -> None:
    from engine.runner import add_arguments as runner_arguments

    runner_arguments(p)


def main(args: argparse.Namespace) -> int:
    from engine.runner import run

    return run(args.spec, args.step, os.environ, args.root)
