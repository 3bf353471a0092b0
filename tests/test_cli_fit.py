"""`dip fit` end to end on small images: files, determinism, resume, and every bad input."""

import csv
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from dip import cli
from dip.scoring import metrics
from dip.data.images import load_image

SIDE = 40  # the smallest the five-scale presets accept is 33


pytestmark = pytest.mark.usefixtures("one_thread")


def save(path, arr):
    Image.fromarray(np.asarray(arr, dtype=np.uint8)).save(path)
    return str(path)


@pytest.fixture
def files(tmp_path):
    """Small inputs: a grayscale image, masks good and bad, a colour image, a text file."""
    rng = np.random.default_rng(0)
    d = tmp_path / "inputs"
    d.mkdir()
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    gray = 128 + 100 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    mask = np.where(rng.random((SIDE, SIDE)) < 0.5, 0, 255)
    return {
        "gray": save(d / "gray.png", gray),
        "mask": save(d / "mask.png", mask),
        "mask_small": save(d / "mask_small.png", mask[:-8, :-8]),
        "mask_grey": save(d / "mask_grey.png", np.where(mask > 0, 200, 0)),
        "tiny": save(d / "tiny.png", gray[:24, :24]),
        "gt_small": save(d / "gt_small.png", gray[:-8]),
        "rgb_lr": save(d / "rgb_lr.png", np.stack([gray[::4, ::4]] * 3, axis=-1)),
        "rgb_hr": save(d / "rgb_hr.png", np.stack([gray] * 3, axis=-1)),
        "text": str(d / "notes.png"),
        "out": tmp_path / "fits" / "run",
    }


def write_text(path):
    with open(path, "w") as f:
        f.write("not an image\n")
    return path


def dip_fit(*args, out):
    return cli.main(["fit", *map(str, args), "--out", str(out)])


def table1(files, *extra, out=None, iterations=4):
    return dip_fit("--preset", "table1", "--image", files["gray"], "--mask", files["mask"],
                   "--iterations", iterations, "--trace-every", 2, *extra, out=out or files["out"])


def leftovers(out):
    return sorted(p.name for p in out.parent.glob(f".{out.name}*")) if out.parent.exists() else []


def read_trace(path):
    with open(path) as f:
        return [{k: v for k, v in r.items() if k != "elapsed_s"} for r in csv.DictReader(f)]


def test_writes_every_file_of_a_fit(files, capsys):
    out = files["out"]
    assert table1(files, "--gt", files["gray"], "--snapshots", "2,4,99") == 0
    names = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    assert {"output.png", "output.npy", "output_clean.png", "output_clean.npy", "ema.png",
            "ema.npy", "output_es.png", "output_es.npy", "trace.csv", "meta.json",
            "checkpoint.pt", "snapshots/iter_000002.png", "snapshots/iter_000004.png"} <= names
    assert "snapshots/iter_000099.png" not in names
    assert leftovers(out) == []
    meta = json.loads((out / "meta.json").read_text())
    for key in ("config", "preset", "seed", "device", "device_name", "torch_version", "iterations",
                "wall_s", "it_per_s", "backtracks", "params", "image_size", "early_stop"):
        assert key in meta, key
    assert meta["preset"] == "table1" and meta["config"]["preset"]["name"] == "table1"
    assert meta["params"] == 2217573 and meta["image_size"] == [SIDE, SIDE]
    assert meta["iterations"] == 4 and meta["backtracks"] == 0 and meta["device"] == "cpu"
    output = np.load(out / "output.npy")
    assert output.dtype == np.float32 and output.shape == (SIDE, SIDE)
    rows = list(csv.DictReader(open(out / "trace.csv")))
    assert list(rows[0]) == ["iteration", "loss", "psnr_observed", "psnr_gt", "psnr_clean_gt",
                            "psnr_ema_gt", "elapsed_s", "es_score", "es_iteration"]
    assert float(rows[-1]["psnr_gt"]) == metrics.psnr(output, load_image(files["gray"]))
    err = capsys.readouterr().err
    assert "iter 4/4" in err
    # four iterations do not fill ES-WMV's window: every file is there, and the fit says so
    assert meta["early_stop"]["detected_iteration"] is None and np.array_equal(np.load(out / "output_es.npy"), output)
    assert "early stopping: no detection: 4 iterations do not fill a window of 100" in err


def test_bernoulli_mask_drops_the_given_fraction_and_follows_the_seed(files, tmp_path):
    outs = [tmp_path / name for name in ("a", "b", "c")]
    for out, seed in zip(outs, (0, 0, 1)):
        assert dip_fit("--preset", "table1", "--image", files["gray"], "--mask-bernoulli", 0.3,
                       "--iterations", 1, "--seed", seed, out=out) == 0
    masks = [load_image(out / "mask.png") for out in outs]
    assert set(np.unique(masks[0])) == {0.0, 1.0}
    assert abs((masks[0] == 0).mean() - 0.3) < 0.06  # 1600 pixels: 0.3 +- 4.5 sigma
    np.testing.assert_array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[0], masks[2])


def test_same_seed_is_bit_identical_other_seed_differs(files, tmp_path):
    runs = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        assert table1(files, "--seed", seed, out=tmp_path / name) == 0
        runs[name] = (tmp_path / name / "output.npy").read_bytes()
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


def test_resume_after_failure_equals_uninterrupted(files, tmp_path, capsys):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    common = ("--checkpoint-every", 3, "--gt", files["gray"])
    assert table1(files, *common, out=straight, iterations=6) == 0

    assert table1(files, *common, "--fail-at-iteration", 3, out=resumed, iterations=6) == 1
    assert "injected failure at iteration 3" in capsys.readouterr().err
    assert not resumed.exists()
    (partial,) = leftovers(resumed)
    assert (tmp_path / partial / "checkpoint.pt").is_file()

    assert table1(files, *common, "--resume", out=resumed, iterations=6) == 0
    assert "resuming from iteration 3" in capsys.readouterr().err
    assert leftovers(resumed) == []
    for name in ("output.npy", "ema.npy"):
        assert (straight / name).read_bytes() == (resumed / name).read_bytes()
    assert read_trace(straight / "trace.csv") == read_trace(resumed / "trace.csv")
    assert json.loads((resumed / "meta.json").read_text())["iterations"] == 6


def test_failure_before_any_checkpoint_leaves_nothing(files, capsys):
    out = files["out"]
    assert table1(files, "--fail-at-iteration", 2) == 1
    assert capsys.readouterr().err.strip().endswith("injected failure at iteration 2")
    assert not out.exists() and leftovers(out) == []


def test_resume_refuses_other_settings(files, capsys):
    out = files["out"]
    assert table1(files, "--checkpoint-every", 2, "--fail-at-iteration", 2) == 1
    capsys.readouterr()
    assert table1(files, "--checkpoint-every", 2, "--lr", "0.5", "--resume") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lr" in err and not out.exists()


def test_resume_auto_passes_over_other_settings_and_moves_them_aside(files, capsys):
    out = files["out"]
    assert table1(files, "--checkpoint-every", 2, "--fail-at-iteration", 2) == 1
    (stale,) = leftovers(out)
    checkpoint = (out.parent / stale / "checkpoint.pt").read_bytes()
    capsys.readouterr()
    assert table1(files, "--checkpoint-every", 2, "--lr", "0.5", "--resume", "auto") == 0
    err = capsys.readouterr().err
    assert "not resuming" in err and "lr" in err and "moved it to" in err and "starting afresh" in err
    assert "resuming from" not in err
    assert json.loads((out / "meta.json").read_text())["config"]["lr"] == 0.5
    (aside,) = leftovers(out)  # the unusable checkpoint is kept, out of the way
    assert aside.startswith(".run.passed-over-")
    assert (out.parent / aside / "checkpoint.pt").read_bytes() == checkpoint


def test_resume_auto_continues_a_matching_checkpoint(files, tmp_path, capsys):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert table1(files, "--checkpoint-every", 2, out=straight) == 0
    assert table1(files, "--checkpoint-every", 2, "--fail-at-iteration", 2, out=resumed) == 1
    capsys.readouterr()
    assert table1(files, "--checkpoint-every", 2, "--resume", "auto", out=resumed) == 0
    assert "resuming from iteration 2" in capsys.readouterr().err
    assert (straight / "output.npy").read_bytes() == (resumed / "output.npy").read_bytes()


def test_resume_refuses_another_precision(files, capsys):
    assert table1(files, "--checkpoint-every", 2, "--fail-at-iteration", 2) == 1
    capsys.readouterr()
    assert table1(files, "--checkpoint-every", 2, "--precision", "fast", "--resume") == 2
    assert "precision" in capsys.readouterr().err


def test_resume_keeps_the_checkpoints_path_on_other_hardware(files, tmp_path, monkeypatch, capsys):
    """A fast fit begun on a CPU with AMX (bf16, channels_last) and resumed on an AVX2-only one
    goes on in bf16, and ends bit-identical to the uninterrupted fit."""
    from dip.engine import precision

    amx = frozenset({"avx2", "avx512_bf16", "amx_bf16"})
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    common = ("--checkpoint-every", 2, "--precision", "fast")
    monkeypatch.setattr(precision, "cpu_flags", lambda: amx)
    assert table1(files, *common, out=straight) == 0
    assert table1(files, *common, "--fail-at-iteration", 2, out=resumed) == 1
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))
    capsys.readouterr()
    assert table1(files, *common, "--resume", out=resumed) == 0
    assert "resuming from iteration 2" in capsys.readouterr().err
    ex = json.loads((resumed / "meta.json").read_text())["execution"]
    assert (ex["bf16"], ex["channels_last"], ex["hardware_class"]) == (True, True, "cpu-bf16")
    assert (straight / "output.npy").read_bytes() == (resumed / "output.npy").read_bytes()


def test_resume_without_checkpoint_starts_afresh(files, capsys):
    assert table1(files, "--resume") == 0
    assert "starting afresh" in capsys.readouterr().err
    assert (files["out"] / "output.npy").is_file()


def test_super_resolution_output_is_factor_times_larger(files, tmp_path):
    out = tmp_path / "sr"
    assert dip_fit("--preset", "sr4", "--image", files["rgb_lr"], "--gt", files["rgb_hr"],
                   "--iterations", 2, out=out) == 0
    assert np.load(out / "output.npy").shape == (SIDE, SIDE, 3)


BAD = {
    "missing image": (["--preset", "table1", "--image", "{inputs}/nope.png", "--mask", "{mask}"], "not found"),
    "non-image file": (["--preset", "table1", "--image", "{text}", "--mask", "{mask}"], "not a readable image"),
    "mask of another size": (["--preset", "table1", "--image", "{gray}", "--mask", "{mask_small}"], "mask"),
    "non-binary mask": (["--preset", "table1", "--image", "{gray}", "--mask", "{mask_grey}"], "not binary"),
    "image too small": (["--preset", "table1", "--image", "{tiny}", "--mask-bernoulli", "0.5"], "too small"),
    "unknown preset": (["--preset", "nonsense", "--image", "{gray}"], "unknown preset"),
    "negative iterations": (["--preset", "table1", "--image", "{gray}", "--mask", "{mask}",
                             "--iterations", "-5"], "--iterations"),
    "both masks": (["--preset", "table1", "--image", "{gray}", "--mask", "{mask}",
                    "--mask-bernoulli", "0.5"], "not both"),
    "mask without inpainting": (["--preset", "denoising", "--image", "{rgb_hr}", "--mask", "{mask}"],
                                "takes no mask"),
    "inpainting without mask": (["--preset", "table1", "--image", "{gray}"], "--mask"),
    "gt size mismatch": (["--preset", "table1", "--image", "{gray}", "--mask", "{mask}",
                          "--gt", "{gt_small}"], "ground truth"),
    "a list of widths that is not one per scale": (["--preset", "table1", "--image", "{gray}", "--mask", "{mask}",
                                                    "--channels-down", "8,16"], "channels_down"),
    "a network too deep for the image": (["--preset", "table1", "--image", "{gray}", "--mask", "{mask}",
                                          "--scales", "7"], "too small"),
    "negative input noise": (["--preset", "table1", "--image", "{gray}", "--mask", "{mask}",
                              "--reg-noise-std", "-1"], "--reg-noise-std"),
    "an image too small for the U-Net": (["--preset", "library_unet", "--image", "{gray}", "--mask", "{mask}"],
                                         "at least 64 and multiples of 32"),
    "a skip setting for the ResNet": (["--preset", "library_resnet", "--image", "{gray}", "--mask", "{mask}",
                                       "--scales", "3"], "shape skip networks"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case, files, capsys):
    write_text(files["text"])
    args, words = BAD[case]
    values = {k: v for k, v in files.items() if isinstance(v, str)}
    values["inputs"] = str(files["out"].parent.parent / "inputs")
    argv = [a.format(**values) for a in args]
    out = files["out"]
    assert dip_fit("--iterations", 1, *argv, out=out) == 2  # a later --iterations wins
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("dip fit: error:") and words in err, err
    assert not out.exists() and leftovers(out) == []


def test_a_colour_image_gets_a_colour_network_under_a_grey_preset(files, tmp_path):
    out = tmp_path / "colour"
    assert dip_fit("--preset", "table1", "--image", files["rgb_hr"], "--mask", files["mask"],
                   "--iterations", 2, out=out) == 0
    assert np.load(out / "output.npy").shape == (SIDE, SIDE, 3)
    assert json.loads((out / "meta.json").read_text())["config"]["preset"]["net"]["out_channels"] == 3


def test_network_and_input_flags_build_the_network_they_name(files, tmp_path):
    from dip.spec.network import SkipConfig, param_count

    out = tmp_path / "custom"
    assert table1(files, "--scales", "3", "--channels-down", "8,16,32", "--channels-up", "8",
                  "--channels-skip", "0", "--kernel-down", "5", "--upsample", "nearest",
                  "--pad", "zero", "--no-conv-1x1", "--input", "meshgrid", "--reg-noise-std", "0",
                  "--lr", "0.02", out=out, iterations=2) == 0
    config = json.loads((out / "meta.json").read_text())["config"]
    net = config["preset"]["net"]
    assert (net["down"], net["up"], net["skip"]) == ([8, 16, 32], [8, 8, 8], [0, 0, 0])
    assert (net["k_down"], net["upsample"], net["pad"], net["up_1x1"]) == (5, "nearest", "zero", False)
    assert (config["preset"]["input"], net["in_channels"], config["reg_noise_std"], config["lr"]) == (
        "meshgrid", 2, 0.0, 0.02)
    expected = SkipConfig(2, 1, (8, 16, 32), (8, 8, 8), (0, 0, 0), k_down=5, upsample="nearest",
                          pad="zero", up_1x1=False)
    assert json.loads((out / "meta.json").read_text())["params"] == param_count(expected)


def test_fit_and_prepare_draw_the_same_bernoulli_mask_for_a_seed(files, tmp_path):
    from dip.physics import masks

    out = tmp_path / "bern"
    assert dip_fit("--preset", "table1", "--image", files["gray"], "--mask-bernoulli", 0.5,
                   "--iterations", 1, "--seed", 7, out=out) == 0
    drawn = load_image(out / "mask.png") > 0.5
    assert np.array_equal(drawn, masks.bernoulli_mask((SIDE, SIDE), 0.5, 7))


def test_checkpoints_by_wall_time_as_well_as_by_count(files, monkeypatch):
    """With a zero-length time budget every iteration is a checkpoint; --checkpoint-every
    alone would give only the last."""
    import dip.engine.fit as fit_module

    saved = []
    real_save = fit_module.torch.save
    monkeypatch.setattr(fit_module.torch, "save", lambda obj, p: (saved.append(obj["iteration"]),
                                                                   real_save(obj, p)))
    assert table1(files, "--checkpoint-every", 100, "--checkpoint-minutes", 1e-9) == 0
    assert saved == [1, 2, 3, 4]
    saved.clear()
    assert table1(files, "--checkpoint-every", 100, out=files["out"].with_name("b")) == 0
    assert saved == [4]


def test_a_second_fit_on_the_same_out_is_refused(files, capsys):
    from dip.files.locks import exclusive

    out = files["out"]
    with exclusive(out.with_name(f".{out.name}.lock"), "held"):
        assert table1(files) == 2
        assert not out.exists() and leftovers(out) == [f".{out.name}.lock"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "being written by another process" in err and "pid" in err
    assert table1(files) == 0 and leftovers(out) == []  # the lock went with its holder


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1])
def test_a_stop_signal_saves_the_state_and_a_rerun_continues_bit_identical(files, tmp_path, sig):
    """A real signal to a real `dip fit` process: it finishes the iteration, saves a
    checkpoint, exits 75; the same command with --resume ends on the uninterrupted result."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    base = [sys.executable, "-m", "dip.cli", "fit", "--preset", "table1", "--image", files["gray"],
            "--mask", files["mask"], "--iterations", "20", "--trace-every", "1",
            "--checkpoint-every", "1000", "--device", "cpu"]
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    subprocess.run([*base, "--out", straight], env=env, check=True, capture_output=True)

    proc = subprocess.Popen([*base, "--out", stopped], env=env, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if line.startswith("iter 5/"):
            proc.send_signal(sig)
            break
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 75, err
    assert f"stopped by {signal.Signals(sig).name} after iteration" in err
    (partial,) = leftovers(stopped)
    at = int(err.split("after iteration ")[1].split(";")[0])
    assert 5 <= at < 20 and not stopped.exists()

    resumed = subprocess.run([*base, "--out", stopped, "--resume"], env=env, capture_output=True,
                             text=True)
    assert resumed.returncode == 0 and f"resuming from iteration {at}" in resumed.stderr
    for name in ("output.npy", "output_clean.npy", "ema.npy"):
        assert (straight / name).read_bytes() == (stopped / name).read_bytes()
    assert read_trace(straight / "trace.csv") == read_trace(stopped / "trace.csv")
