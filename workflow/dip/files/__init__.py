"""Files written safely and read plainly: atomic writes, JSON, sha256, locks. Below every layer."""
