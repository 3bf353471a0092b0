"""The data registry sheet (workflow/registry.tsv) and downloads from a directory mirror."""

import copy
import csv
import hashlib
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from PIL import Image

from conftest import REPO
from dip import pipeline
from dip.data import registry as data
from dip.errors import DipError
from dip.pipeline import reports

TABLE1 = ["barbara", "boat", "house", "lena", "peppers", "cameraman", "couple", "fingerprint",
          "hill", "man", "montage"]


@pytest.fixture(scope="module")
def config():
    return pipeline.load_config(REPO / "config.yaml")


def _required(config):
    return [p.removeprefix("data/raw/") for p in reports.raw_files(pipeline.Plan(config))]


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_registry_has_every_table1_role_and_kate(config):
    for image in TABLE1:
        for role in ("gt", "masked", "dip", "papyan", "voronoi"):
            path = data.file_for(config, image, role)
            assert data.entry(config, path).set == "table1"
    assert data.file_for(config, "lena", "masked") == "table1/dip_project_page/Lena512_masked.png"
    assert data.file_for(config, "cameraman", "dip") == "table1/dip_project_page/Cameraman256_deep_prior.png"
    assert data.file_for(config, "kate", "gt") == "dip/inpainting/kate.png"
    assert data.file_for(config, "kate", "gt", set="restoration") == "dip/restoration/kate.png"
    assert data.file_for(config, "kate", "mask") == "dip/inpainting/kate_mask.png"


def test_registry_matches_manifest_and_leaves_out_derived_masks(config, mirror):
    rows = {r["path"]: r for r in csv.DictReader((mirror / "MANIFEST.tsv").open(), delimiter="\t")}
    reg = data.registry(config)
    assert not [p for p in reg if p.startswith("table1/masks_derived/")]
    for path, e in reg.items():
        assert (e.sha256, e.url) == (rows[path]["sha256"], rows[path]["raw_url"])
        assert e.url.startswith("https://raw.githubusercontent.com/")
        with Image.open(mirror / path) as im:
            assert (e.width, e.height) == im.size
    assert data.image_size(config, "lena") == (512, 512)
    assert data.image_size(config, "library") == (448, 704)  # (height, width)


def test_registry_regenerates_identically(tmp_path, mirror):
    """The committed registry sheet is what the generator makes from the MANIFEST."""
    sheet = tmp_path / "registry.tsv"
    script = REPO / "workflow/scripts/registry_from_manifest.py"
    subprocess.run([sys.executable, str(script), str(mirror / "MANIFEST.tsv"), str(sheet)], check=True)
    assert sheet.read_text() == (REPO / "workflow/registry.tsv").read_text()


def test_the_registry_lives_outside_config_yaml(config):
    text = (REPO / "config.yaml").read_text()
    assert "sha256:" not in text and "https://" not in text
    assert len(data.registry(config)) > 100  # loaded from the sheet the config names


def test_bad_registry_sheet_rows_name_their_line_and_field(tmp_path):
    good = (REPO / "workflow/registry.tsv").read_text().splitlines()
    bad = tmp_path / "registry.tsv"
    bad.write_text("\n".join([good[0], good[1], good[2].replace("\t512\t", "\tbig\t", 1)]) + "\n")
    with pytest.raises(DipError, match=r"registry.tsv, line 3: width"):
        data.read_sheet(bad)
    bad.write_text("\n".join([good[0], good[1], good[1]]) + "\n")
    with pytest.raises(DipError, match="line 3.*twice"):
        data.read_sheet(bad)


def test_file_for_names_image_and_role_when_absent(config):
    with pytest.raises(DipError, match="'mask'.*'barbara'.*gt"):
        data.file_for(config, "barbara", "mask")
    with pytest.raises(DipError, match="'nosuch'"):
        data.file_for(config, "nosuch", "gt")


def test_bad_registry_entries_are_rejected(config):
    bad = copy.deepcopy(config)
    bad["data"]["files"]["table1/barbara.png"]["sha256"] = "abc"
    with pytest.raises(DipError, match="table1/barbara.png.*sha256"):
        data.registry(bad)
    bad["data"]["files"] = {"../etc/x.png": {"image": "x", "set": "s", "role": "gt", "url": "u",
                                             "sha256": "0" * 64}}
    with pytest.raises(DipError, match="relative"):
        data.registry(bad)


def test_required_files_follow_the_experiments(config):
    reproduction = ("table1", "table1_full_backtracking", "figure7")
    req = _required({**config, "targets": {},
                     "experiments": {k: v for k, v in config["experiments"].items() if k in reproduction}})
    assert len(req) == 11 * 4 + 2 == len(set(req))
    assert "table1/dip_project_page/peppers256_papyan.png" in req
    assert "dip/inpainting/kate_mask.png" in req
    assert not [p for p in req if "voronoi" in p]
    only_bernoulli = copy.deepcopy(config)
    only_bernoulli["experiments"] = {"b": {"preset": "text_inpainting", "images": ["vase"],
                                           "mask": "bernoulli"}}
    only_bernoulli["targets"] = {}
    assert _required(only_bernoulli) == ["dip/inpainting/vase.png"]


def test_a_figure_reads_the_published_outputs_of_its_reused_image(config):
    req = set(_required({**config, "targets": {}, "experiments": {k: config["experiments"][k] for k in ("table1", "figure7")}}))
    small = copy.deepcopy(config)
    small["experiments"]["table1"]["report"] = "none"
    req_small = set(_required(small))
    assert "table1/dip_project_page/barbara_papyan.png" in req & req_small
    assert "table1/dip_project_page/boat_papyan.png" in req - req_small


def test_mirror_setting_prefers_config_then_environment(monkeypatch):
    monkeypatch.setenv(data.MIRROR_ENV, "/env/mirror")
    assert data.mirror_setting({"mirror": "http://m/"}) == "http://m/"
    assert data.mirror_setting({"mirror": ""}) == "/env/mirror"
    monkeypatch.delenv(data.MIRROR_ENV)
    assert data.mirror_setting({}) is None


def test_export_mirror_hands_the_config_mirror_to_jobs(monkeypatch):
    monkeypatch.setenv(data.MIRROR_ENV, "/env/mirror")
    data.export_mirror({"mirror": ""})
    assert os.environ[data.MIRROR_ENV] == "/env/mirror"
    data.export_mirror({"mirror": "/config/mirror"})
    assert os.environ[data.MIRROR_ENV] == "/config/mirror"


def test_directory_mirror_fetch_and_keep(config, mirror, tmp_path):
    item = data.entry(config, "table1/house.png")
    out = data.fetch(item, tmp_path, mirror=str(mirror))
    assert out == tmp_path / item.path and _sha(out) == item.sha256
    mtime = os.stat(out).st_mtime_ns
    data.fetch(item, tmp_path, mirror="/nonexistent")  # intact file: nothing is fetched
    assert os.stat(out).st_mtime_ns == mtime


def test_corrupt_directory_mirror_and_stale_destination(config, mirror, tmp_path):
    item = data.entry(config, "table1/house.png")
    bad_mirror = tmp_path / "mirror"
    (bad_mirror / "table1").mkdir(parents=True)
    (bad_mirror / item.path).write_bytes((mirror / item.path).read_bytes()[:-10])  # truncated
    dest = tmp_path / "raw"
    (dest / "table1").mkdir(parents=True)
    (dest / item.path).write_bytes(b"stale")
    offline = data.Entry(item.path, item.image, item.set, item.role, "http://127.0.0.1:9/x", item.sha256)
    with pytest.raises(DipError) as err:
        data.fetch(offline, dest, mirror=str(bad_mirror))
    msg = str(err.value)
    truncated = hashlib.sha256((bad_mirror / item.path).read_bytes()).hexdigest()
    assert item.path in msg and item.sha256 in msg and truncated in msg
    assert not (dest / item.path).exists()


def test_missing_mirror_file_names_the_path(config, tmp_path):
    item = data.entry(config, "table1/house.png")
    offline = data.Entry(item.path, item.image, item.set, item.role, "http://127.0.0.1:9/x", item.sha256)
    with pytest.raises(DipError) as err:
        data.fetch(offline, tmp_path / "raw", mirror=str(tmp_path / "m"))
    assert str(tmp_path / "m" / item.path) in str(err.value)


def test_download_command_single_file_and_config_modes(config, mirror, tmp_path, monkeypatch):
    from dip.commands import download

    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    item = data.entry(config, "dip/inpainting/kate_mask.png")
    parser = _parser(download)
    out = tmp_path / "one" / "kate_mask.png"
    args = parser.parse_args(["--path", item.path, "--url", item.url, "--sha256", item.sha256,
                              "--mirror", str(mirror), "--out", str(out)])
    assert download.run(args) == 0 and _sha(out) == item.sha256
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({**config, "mirror": str(mirror)}))
    args = parser.parse_args(["--configfile", str(cfg), "--root", str(tmp_path / "raw"), "table1/man.png"])
    assert download.run(args) == 0
    assert _sha(tmp_path / "raw/table1/man.png") == data.entry(config, "table1/man.png").sha256
    with pytest.raises(DipError, match="--configfile"):
        download.run(parser.parse_args(["--path", "x"]))


def _parser(module):
    import argparse

    p = argparse.ArgumentParser()
    module.add_arguments(p)
    return p


def test_schemas_accept_the_config_and_the_registry_and_reject_bad_rows(config):
    import jsonschema

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    plain = yaml.safe_load((REPO / "config.yaml").read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(plain)) == []
    rows = jsonschema.Draft202012Validator(yaml.safe_load(data.SHEET_SCHEMA.read_text()))
    files = config["data"]["files"]
    assert all(not list(rows.iter_errors({"path": p, **f})) for p, f in files.items())
    assert list(rows.iter_errors({"path": "../outside.png", **files["table1/barbara.png"]}))
    assert list(rows.iter_errors({"path": "table1/boat.png", **files["table1/boat.png"], "sha256": "XYZ"}))
