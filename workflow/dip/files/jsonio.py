"""Reading the JSON files runs leave (metrics, meta, prep, specs), with one clear error."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import DipError


def read_json(path: str | Path) -> dict:
    """Load a JSON object, turning a missing or malformed file into a DipError."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DipError(f"file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise DipError(f"not valid JSON: {path} ({exc})") from None
    if not isinstance(data, dict):
        raise DipError(f"expected a JSON object in {path}")
    return data
