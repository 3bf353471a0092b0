"""The one exception type the CLI turns into a clear message and exit code 2."""


class DipError(Exception):
    """Bad input or configuration: reported as one line on stderr, exit code 2."""
