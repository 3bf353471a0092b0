"""The `dip` command: one entry point whose subcommands live in small modules.

Each module in COMMANDS defines ``add_arguments(parser)`` and ``run(args) -> int``; its
docstring is the subcommand's description. Only the chosen subcommand's module is imported,
so light commands (downloads, masks) start without loading torch. Bad input raises DipError,
reported here as one line on stderr with exit code 2.
"""

import argparse
import importlib
import sys

from .errors import DipError

#: name -> (module, one-line help)
COMMANDS = {
    # engine
    "fit": ("dip.commands.fit", "fit a Deep Image Prior network to one image"),
    "describe": ("dip.commands.describe", "layer table and parameter count of a preset's network"),
    "bench": ("dip.commands.bench", "time training steps of a preset's network"),
    "compare-precision": ("dip.commands.compare_precision",
                          "final PSNR of faithful and fast fits of the same images and seeds"),
    # data
    "download": ("dip.commands.download", "fetch registry files and verify their sha256"),
    "mask": ("dip.commands.mask", "make a mask (Bernoulli, recovered, or rendered text)"),
    "prepare": ("dip.commands.prepare", "prepare one fit's inputs (crop/pad, mask, observation)"),
    # workflow
    "run-config": ("dip.commands.run_config", "write the resolved run configuration as JSON"),
    "estimate": ("dip.commands.estimate", "estimate the fits' compute time; warn on a CPU in paper mode"),
    # evaluation and reporting
    "evaluate": ("dip.commands.evaluate", "score one fit against its ground truth"),
    "table1": ("dip.commands.table1", "build Table 1 (CSV and Markdown)"),
    "figure7": ("dip.commands.figure7", "draw Figure 7 (PNG and PDF)"),
    "curves": ("dip.commands.curves", "plot PSNR against iterations"),
    "section": ("dip.commands.section", "a task's section: table beside the paper, figure"),
    "study": ("dip.commands.study", "a study: variants against the base, curves, conclusion"),
    "snapshots": ("dip.commands.snapshots", "grid of intermediate outputs"),
    "report": ("dip.commands.report", "render the HTML and Markdown report"),
    "report-partial": ("dip.commands.report_partial", "a target's report from the fits that finished"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with full arguments for `command` (or every subcommand when None)."""
    parser = argparse.ArgumentParser(prog="dip", description="Deep Image Prior engine and workflow tools.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (modname, help_line) in COMMANDS.items():
        if command is not None and name != command:
            sub.add_parser(name, help=help_line)
            continue
        mod = importlib.import_module(modname)
        p = sub.add_parser(
            name, help=help_line, description=mod.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else "")
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except DipError as exc:
        print(f"dip {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"dip {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
