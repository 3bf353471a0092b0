"""Durations as people read them: the one formatter the commands and the report share."""


def human_duration(seconds: float) -> str:
    """'42.0 s', '12.5 min', '3.20 h' or '2.5 days'."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.2f} h"
    return f"{seconds / 86400:.1f} days"
