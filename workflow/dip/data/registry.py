"""The data registry and its verified download.

The registry is a sheet of its own (``workflow/registry.tsv``, validated against
``workflow/schemas/registry.schema.yaml``); loaded, it is the config's ``data.files``, which maps
each registry path (the file's path in a mirror and under
``data/raw/``) to the image name and role experiments ask for, its set, a pinned public URL
and its sha256. A file is fetched from the mirror first (a local directory laid out like the
registry paths, or a base URL), then from its pinned URL; pooch does the transfer, the hash
check, the bounded retries and the atomic rename, so a file at its destination always has the
registry's hash.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ..errors import DipError

MIRROR_ENV = "DIP_DATA_MIRROR"
SHEET_SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "registry.schema.yaml"
RAW_ROOT = "data/raw"

#: (connect, read) seconds per HTTP attempt, and retries after the first attempt: an offline
#: machine gives up in well under 30 s; a slow server gets 30 s between bytes.
HTTP_TIMEOUT = (5, 30)
HTTP_RETRIES = 2

_SHA256 = re.compile(r"[0-9a-f]{64}")
_FIELDS = ("image", "set", "role", "url", "sha256")


@dataclass(frozen=True)
class Entry:
    """One registry file (width and height 0 where the registry does not say)."""

    path: str
    image: str
    set: str
    role: str
    url: str
    sha256: str
    width: int = 0
    height: int = 0


#: id(files) -> (files, its length, parsed entries). Planning a DAG asks for the registry
#: thousands of times; the config is not changed while Snakemake runs. Keeping `files` in the
#: cache keeps its id from being reused; the length check catches entries added later.
_PARSED: dict[int, tuple[dict, int, dict]] = {}


def registry(config: dict) -> dict[str, Entry]:
    """Registry path -> Entry, in the order the config lists them (checked)."""
    files = (config.get("data") or {}).get("files") or {}
    hit = _PARSED.get(id(files))
    if hit is None or hit[0] is not files or hit[1] != len(files):
        hit = _PARSED[id(files)] = (files, len(files), _parse(files))
    return dict(hit[2])


def _parse(files: dict) -> dict[str, Entry]:
    out = {}
    for path, fields in files.items():
        missing = [k for k in _FIELDS if not (fields or {}).get(k)]
        if missing:
            raise DipError(f"data registry entry {path}: missing {', '.join(missing)}")
        if not _SHA256.fullmatch(str(fields["sha256"])):
            raise DipError(f"data registry entry {path}: sha256 must be 64 lowercase hex digits")
        if Path(path).is_absolute() or ".." in Path(path).parts:
            raise DipError(f"data registry entry {path}: the path must be relative, without '..'")
        size = (int(fields.get("width", 0)), int(fields.get("height", 0)))
        out[path] = Entry(path, *(str(fields[k]) for k in _FIELDS), *size)
    return out


def read_sheet(path: str | Path) -> dict[str, dict]:
    """The registry sheet (TSV, one row per file) as ``data.files``: path -> fields, each row
    checked against the sheet's schema. A bad row is a DipError naming its line and field."""
    import csv

    import jsonschema
    import yaml

    path = Path(path)
    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
    except OSError as exc:
        raise DipError(f"cannot read the data registry sheet {path}: {exc}") from None
    validator = jsonschema.Draft202012Validator(yaml.safe_load(SHEET_SCHEMA.read_text()))
    files = {}
    for line, row in enumerate(rows, start=2):
        for key in ("width", "height"):
            if str(row.get(key) or "").isdigit():
                row[key] = int(row[key])
        error = next(iter(validator.iter_errors(row)), None)
        if error is not None:
            field = ".".join(map(str, error.path)) or "row"
            raise DipError(f"{path}, line {line}: {field}: {error.message}")
        if row["path"] in files:
            raise DipError(f"{path}, line {line}: {row['path']} is listed twice")
        files[row.pop("path")] = row
    return files


def entry(config: dict, path: str) -> Entry:
    try:
        return registry(config)[path]
    except KeyError:
        raise DipError(f"'{path}' is not in the data registry (workflow/registry.tsv)") from None


def file_for(config: dict, image: str, role: str, set: str | None = None) -> str:
    """Registry path of an image's file for a role; the first listed if several sets have one."""
    entries = registry(config).values()
    for e in entries:
        if e.image == image and e.role == role and set in (None, e.set):
            return e.path
    roles = sorted({e.role for e in entries if e.image == image})
    where = f" in set '{set}'" if set else ""
    have = f"; it has roles: {', '.join(roles)}" if roles else "; no file of that image is registered"
    raise DipError(f"data registry: no '{role}' file for image '{image}'{where}{have}")


def image_size(config: dict, image: str) -> tuple[int, int]:
    """(height, width) of an image's ground truth, as registered (before any crop or pad)."""
    item = entry(config, file_for(config, image, "gt"))
    if not (item.width and item.height):
        raise DipError(f"data registry entry {item.path}: no width/height")
    return item.height, item.width


def raw_path(path: str, root: str | Path = RAW_ROOT) -> str:
    return str(Path(root) / path)


def mirror_setting(config: dict) -> str | None:
    """The config's `mirror` if set, else $DIP_DATA_MIRROR if set, else None."""
    return (config.get("mirror") or "").strip() or os.environ.get(MIRROR_ENV, "").strip() or None


def _is_url(location: str) -> bool:
    return urlparse(location).scheme in ("http", "https")


def check_mirror(mirror: str) -> str:
    """A mirror is an http(s) base URL or a directory path; any other scheme (ftp, file, s3,
    ...) is an error. A directory that lacks a file is a miss like a 404: the pinned URL is
    tried next, and the error on a miss names the path looked for."""
    if _is_url(mirror):
        return mirror
    if len(urlparse(mirror).scheme) > 1:  # one letter is a Windows drive, not a scheme
        raise DipError(f"mirror {mirror!r}: only a directory or an http(s) URL can be a mirror "
                       f"(config `mirror` or {MIRROR_ENV})")
    return mirror


def _copy_from_directory(url: str, output_file: str, pooch_obj) -> None:
    """pooch downloader for a directory mirror: `url` is a local path, `output_file` pooch's
    temporary file (pooch then checks the hash and renames)."""
    src = Path(url)
    if not src.is_file():
        raise FileNotFoundError(f"not in the directory mirror: {src}")
    shutil.copyfile(src, output_file)


def sources(item: Entry, mirror: str | None) -> list[str]:
    """Where to look, in order: the mirror's copy (URL or local path), then the pinned URL."""
    out = []
    if mirror:
        if _is_url(check_mirror(mirror)):
            out.append(mirror.rstrip("/") + "/" + item.path)
        else:
            out.append(str(Path(mirror).expanduser().resolve() / item.path))
    out.append(item.url)
    return out


def _fetch_one(source: str, item: Entry, dest: Path) -> None:
    import pooch

    if _is_url(source):
        downloader, retries = pooch.HTTPDownloader(timeout=HTTP_TIMEOUT, progressbar=False), HTTP_RETRIES
    else:
        downloader, retries = _copy_from_directory, 0
    store = pooch.create(path=dest.parent, base_url="", registry={dest.name: f"sha256:{item.sha256}"},
                         urls={dest.name: source}, retry_if_failed=retries)
    store.fetch(dest.name, downloader=downloader)


def download(item: Entry, dest: str | Path, mirror: str | None = None) -> Path:
    """Put `item` at `dest` with its registry hash: a file already there and intact is kept."""
    import pooch

    dest = Path(dest)
    if dest.is_file():
        if pooch.file_hash(str(dest)) == item.sha256:
            return dest
        dest.unlink()  # stale or corrupt: never leave a file with the wrong hash in place
    failures = []
    for source in sources(item, mirror):
        try:
            _fetch_one(source, item, dest)
            return dest
        except Exception as exc:  # noqa: BLE001 - every source's failure is reported below
            failures.append(f"  {source}: {type(exc).__name__}: {exc}")
    hint = (f"set `mirror` in the config or the environment variable {MIRROR_ENV} to a local copy "
            f"(a directory laid out like the registry paths, or a base URL)")
    if mirror:
        hint = f"mirror in use: {mirror} (config `mirror`, else {MIRROR_ENV})"
    raise DipError(f"could not fetch {item.path} (sha256 {item.sha256}); {hint}; tried:\n"
                   + "\n".join(failures))


def fetch(item: Entry, dest_root: str | Path = RAW_ROOT, mirror: str | None = None) -> Path:
    """Download a registry file to dest_root/<registry path>."""
    return download(item, Path(dest_root) / item.path, mirror)


def fetch_params(config: dict, path: str) -> dict[str, str]:
    """What the fetch rule passes to `dip download` for one registry path."""
    item = entry(config, path)
    return {"url": item.url, "sha256": item.sha256}


def export_mirror(config: dict) -> None:
    """Hand the mirror to download jobs through $DIP_DATA_MIRROR, the config's `mirror` first.

    Not a rule parameter on purpose: where a file came from does not change it, so a changed
    mirror must not make Snakemake fetch verified files again (and fail offline).
    """
    mirror = mirror_setting(config)
    if mirror:
        os.environ[MIRROR_ENV] = check_mirror(mirror)
