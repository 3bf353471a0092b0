"""Subcommands of the `dip` CLI, one module each."""
