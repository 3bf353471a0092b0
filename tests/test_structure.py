"""The package's seams: layers import downwards only, commands never import each other or the
CLI, no module grows past a screenful of screens, and one helper does each job."""

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


#: The layers, bottom first. A module imports from its own room or from a lower layer; two rooms
#: of one layer never import each other. `dip` itself (the package's STARTED) sits below all.
LAYERS = (
    ("errors", "durations"),
    ("files",),
    ("data", "spec"),
    ("physics",),
    ("models", "scoring"),
    ("engine",),
    ("report", "pipeline"),
    ("commands",),
    ("cli",),
    ("device_check",),
)
RANK = {room: rank for rank, rooms in enumerate(LAYERS) for room in rooms}
TOP_LEVEL_MODULES = 6
MAX_LINES = 400


def _room(module: str) -> str:
    """The room of a dotted module inside dip: its sub-package, or the top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "dip"


def _targets(path: Path) -> list[str]:
    """Every dip module ``path`` imports, as an absolute dotted name."""
    here = "dip." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    package = here.rsplit(".", 1)[0] if path.name != "__init__.py" else here.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "dip" or module.startswith("dip."):
                subs = [f"{module}.{a.name}" for a in node.names if (PACKAGE / a.name).exists()
                        or (PACKAGE / f"{a.name}.py").exists()] if module == "dip" else []
                found += subs or [module]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("dip.")]
    return found


def test_every_room_has_a_layer_and_the_top_level_stays_small():
    rooms = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    assert rooms == set(RANK), f"rooms without a layer: {rooms - set(RANK)}; gone: {set(RANK) - rooms}"
    assert len(list(PACKAGE.glob("*.py"))) <= TOP_LEVEL_MODULES


def test_imports_go_downwards_only():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        room = _room("dip." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
        for target in _targets(path):
            other = _room(target)
            if other in ("dip", room):
                continue
            if RANK[other] >= RANK[room]:
                upward.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert upward == []


def test_no_module_is_longer_than_the_limit():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


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
