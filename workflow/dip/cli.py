"""The `dip` command: one entry point whose subcommands live in small modules.

Each module in COMMANDS defines ``add_arguments(parser)`` and ``run(args) -> int``, and a
module docstring whose first line is the subcommand's help. Bad input raises DipError, which
is reported here as one line on stderr with exit code 2.
"""

import argparse
import importlib
import sys

from .errors import DipError

COMMANDS = {
    # engine
    "fit": "dip.commands.fit",
    "describe": "dip.commands.describe",
    "bench": "dip.commands.bench",
    # data
    "download": "dip.commands.download",
    "mask": "dip.commands.mask",
    "prepare": "dip.commands.prepare",
    # workflow
    "run-config": "dip.commands.run_config",
    # evaluation and reporting
    "evaluate": "dip.commands.evaluate",
    "table1": "dip.commands.table1",
    "figure7": "dip.commands.figure7",
    "curves": "dip.commands.curves",
    "snapshots": "dip.commands.snapshots",
    "report": "dip.commands.report",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dip", description="Deep Image Prior engine and workflow tools.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(modname)
        help_line = (mod.__doc__ or "").strip().splitlines()[0] if mod.__doc__ else None
        p = sub.add_parser(
            name, help=help_line, description=mod.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except DipError as exc:
        print(f"dip {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"dip {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
