"""The package's seams: commands import the library, never each other; one helper per job."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "workflow" / "dip"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    return [(node.level, node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]


def _names(path: Path) -> list[tuple[int, str, str]]:
    """(level, module, name) of every `from ... import name`."""
    tree = ast.parse(path.read_text())
    return [(node.level, node.module or "", alias.name) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) for alias in node.names]


def test_commands_import_the_library_never_another_command_nor_the_cli():
    for path in (PACKAGE / "commands").glob("*.py"):
        # private helpers shared by commands (_pairs, _precision, _dip) are not commands
        siblings = [m for level, m in _imports(path) if level == 1 and not m.startswith("_")]
        assert siblings == [], f"{path.name} imports commands {siblings}"
        cli = [(m, n) for level, m, n in _names(path)
               if level == 2 and (m == "cli" or (m == "" and n in ("cli", "commands")))]
        assert cli == [], f"{path.name} imports the CLI: {cli}"


def test_one_helper_per_job():
    sources = {p: p.read_text() for p in PACKAGE.rglob("*.py")}
    assert [p.name for p, s in sources.items() if "hashlib.sha256(" in s] == ["hashes.py"]
    assert [p.name for p, s in sources.items() if "np.random.default_rng(seed).random(" in s] == ["masks.py"]
    loaders = [p.name for p, s in sources.items() if "def load_mask" in s or "def _load_mask" in s]
    assert loaders == ["masks.py"]
