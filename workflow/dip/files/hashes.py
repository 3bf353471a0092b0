"""SHA-256 of a file, read in blocks: the one helper the commands and the planner share."""

import hashlib
from pathlib import Path


def sha256_file(path: str | Path) -> str:
    """Lowercase hex SHA-256 of the file at ``path``."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
