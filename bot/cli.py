"""`modelbridge run` (the bot), `console` (terminal chat), `check` (settings, gateway, database,
platform tokens), `sandbox` (offline gateway)."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command; sub-modules add their own options."""
    from bot.sandbox.cli import add_sandbox_arguments

    parser = argparse.ArgumentParser(prog="modelbridge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "run",
        help="start the bot: Discord/Telegram when their tokens are set, else the console",
    )
    sub.add_parser("console", help="chat with the bot in this terminal (reads commands from stdin)")
    sub.add_parser(
        "check",
        help="check the settings, the gateway key and what it offers, the database and the "
        "platform tokens, one line each, without starting the bot (exit 0: all passed)",
    )
    sandbox = sub.add_parser(
        "sandbox",
        help="serve the offline stand-in of the gateway over HTTP",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_sandbox_arguments(sandbox)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    if args.command == "sandbox":
        from bot.sandbox.cli import run_sandbox

        return run_sandbox(args)
    if args.command == "check":
        from bot.check import run_check

        return run_check()
    from bot.app import run_app

    return run_app(console_only=args.command == "console")


if __name__ == "__main__":
    sys.exit(main())
