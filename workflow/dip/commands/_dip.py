"""Running another `dip` subcommand from a command, as its own process (a command never
imports the CLI or another command)."""

from __future__ import annotations

import subprocess
import sys


def dip(argv: list[str]) -> int:
    """`dip ARGV` in a new process of this Python; its exit code."""
    return subprocess.run([sys.executable, "-m", "dip.cli", *map(str, argv)]).returncode
