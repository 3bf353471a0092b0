"""The real HTTP path of `dip.data.registry`: a server on 127.0.0.1 serving a few mirror files, one of
them corrupted and one missing, used as a base-URL mirror and as the pinned URL."""

import functools
import hashlib
import http.server
import shutil
import socket
import threading
import time

import pytest

from dip.data import registry as data
from dip.errors import DipError

FILES = ["table1/house.png", "table1/dip_project_page/house_masked.png", "dip/inpainting/kate_mask.png"]
CORRUPT = "table1/dip_project_page/house_masked.png"
MISSING = "dip/inpainting/kate_mask.png"


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def served(mirror, tmp_path_factory):
    """(base URL, {path: Entry with the true hash}) for a served copy of FILES."""
    root = tmp_path_factory.mktemp("served")
    entries = {}
    for path in FILES:
        src = mirror / path
        entries[path] = data.Entry(path, "x", "s", "r", url="", sha256=_sha(src))
        if path == MISSING:
            continue
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / path)
    with open(root / CORRUPT, "r+b") as f:  # flip one byte
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 0xFF]))
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", entries
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _closed_port_url(path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{path}"


def _with_url(entry, url):
    return data.Entry(entry.path, entry.image, entry.set, entry.role, url, entry.sha256)


def test_base_url_mirror_before_dead_pinned_url(served, tmp_path):
    base, entries = served
    item = _with_url(entries["table1/house.png"], _closed_port_url("house.png"))
    out = data.fetch(item, tmp_path, mirror=base + "/")
    assert out == tmp_path / "table1/house.png"
    assert _sha(out) == item.sha256


def test_pinned_url_without_mirror(served, tmp_path):
    base, entries = served
    item = _with_url(entries["table1/house.png"], f"{base}/table1/house.png")
    out = data.download(item, tmp_path / "a" / "house.png", mirror=None)
    assert _sha(out) == item.sha256


def test_mirror_miss_falls_back_to_pinned_url(served, tmp_path):
    base, entries = served
    item = _with_url(entries["table1/house.png"], f"{base}/table1/house.png")
    out = data.fetch(item, tmp_path, mirror=str(tmp_path / "empty-mirror"))
    assert _sha(out) == item.sha256


def test_corrupt_download_names_file_and_both_hashes(served, tmp_path):
    base, entries = served
    item = _with_url(entries[CORRUPT], f"{base}/{CORRUPT}")
    with pytest.raises(DipError) as err:
        data.fetch(item, tmp_path, mirror=None)
    msg = str(err.value)
    actual = hashlib.sha256(_served_bytes(base, CORRUPT)).hexdigest()
    assert CORRUPT in msg and item.sha256 in msg and actual in msg
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # no file, not even a temporary


def _served_bytes(base, path):
    import urllib.request

    with urllib.request.urlopen(f"{base}/{path}", timeout=5) as r:
        return r.read()


def test_404_names_the_url(served, tmp_path):
    base, entries = served
    url = f"{base}/{MISSING}"
    with pytest.raises(DipError) as err:
        data.fetch(_with_url(entries[MISSING], url), tmp_path, mirror=None)
    assert "404" in str(err.value) and url in str(err.value)
    assert not (tmp_path / MISSING).exists()


def test_offline_without_mirror_fails_fast_with_the_hint(served, tmp_path, monkeypatch):
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    _, entries = served
    item = _with_url(entries["table1/house.png"], _closed_port_url("house.png"))
    start = time.monotonic()
    with pytest.raises(DipError) as err:
        data.fetch(item, tmp_path, mirror=data.mirror_setting({"mirror": ""}))
    assert time.monotonic() - start < 30
    msg = str(err.value)
    assert "`mirror`" in msg and data.MIRROR_ENV in msg and item.url in msg
    assert not (tmp_path / "table1/house.png").exists()
