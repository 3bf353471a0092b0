"""`dip describe` and `dip bench` through the CLI dispatcher."""

import dataclasses
import json

import pytest

from dip import cli
from dip.engine import precision
from dip.spec.presets import get_preset

BENCH_KEYS = {
    "s_per_iter", "it_per_s", "peak_mem_mb", "mem_kind", "gflop_per_iter", "device", "device_name",
    "torch_version", "params", "size", "preset", "iterations", "warmup", "precision", "bf16",
    "channels_last", "compile", "tf32", "cpu_s_per_iter", "gflop_per_s", "ratio_to_fp32_eager", "fp32_eager",
}


@pytest.fixture
def dip(capsys):
    """Run `dip ARGS...` in process; returns (code, stdout, stderr)."""

    def call(*argv):
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return call


def test_describe_json(dip):
    code, out, _ = dip("describe", "--preset", "flash", "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"preset", "params", "layers", "net", "preset_config"}
    assert doc["preset"] == "flash" and doc["params"] == 2184307
    assert sum(row["params"] for row in doc["layers"]) == doc["params"]
    assert set(doc["layers"][0]) == {"name", "type", "in", "out", "kernel", "stride", "params"}
    preset = get_preset("flash")
    assert doc["net"] == json.loads(json.dumps(dataclasses.asdict(preset.net)))
    assert doc["preset_config"]["lr"] == 0.1 and doc["preset_config"]["iterations"] == 601
    assert "net" not in doc["preset_config"]


def test_describe_table(dip):
    code, out, _ = dip("describe", "--preset", "library_depth6")
    assert code == 0
    assert "2,996,467 parameters" in out
    assert "scales.5.encoder.halve.conv" in out and "scales.6" not in out
    header = next(line for line in out.splitlines() if line.startswith("name"))
    assert header.split() == ["name", "type", "in", "out", "kernel", "stride", "params"]


@pytest.mark.parametrize("command", ["describe", "bench"])
def test_unknown_preset_is_one_line_and_exit_2(dip, command):
    code, out, err = dip(command, "--preset", "nope", "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "unknown preset 'nope'" in err


def test_bench_json_reports_a_training_step(dip):
    code, out, _ = dip("bench", "--preset", "table1", "--size", "64", "--iterations", "2", "--warmup", "0",
                       "--device", "cpu", "--json")
    assert code == 0
    r = json.loads(out)
    assert BENCH_KEYS <= set(r)
    assert (r["preset"], r["size"], r["params"], r["device"]) == ("table1", 64, 2217573, "cpu")
    assert r["s_per_iter"] > 0 and r["it_per_s"] == pytest.approx(1 / r["s_per_iter"])
    assert r["mem_kind"] == "process_peak_rss" and r["peak_mem_mb"] > 0
    assert (r["precision"], r["bf16"], r["tf32"], r["iterations"], r["warmup"]) == ("faithful", False, False, 2, 0)
    assert r["gflop_per_s"] == pytest.approx(r["gflop_per_iter"] / r["s_per_iter"])
    assert r["ratio_to_fp32_eager"] == pytest.approx(r["fp32_eager"]["s_per_iter"] / r["s_per_iter"])
    # forward + backward of the convolutions: about 3x the forward FLOPs, which are
    # 2 * 9 * 132 * 128 * 64 * 64 for the finest decoder conv alone
    assert r["gflop_per_iter"] > 3 * 2 * 9 * 132 * 128 * 64 * 64 / 1e9


def test_bench_flops_scale_with_the_image_area(dip):
    runs = [json.loads(dip("bench", "--preset", "denoising", "--size", str(n), "--iterations", "1", "--warmup",
                           "0", "--json")[1]) for n in (64, 128)]
    assert runs[1]["gflop_per_iter"] / runs[0]["gflop_per_iter"] == pytest.approx(4, rel=1e-3)


@pytest.mark.parametrize("preset", ["sr4", "region_inpainting", "flash"])
def test_bench_runs_every_kind_of_task(dip, preset):
    code, out, _ = dip("bench", "--preset", preset, "--size", "64", "--iterations", "1", "--warmup", "0", "--json")
    assert code == 0 and json.loads(out)["preset"] == preset


def test_bench_fast_reports_the_path_this_cpu_takes(dip, monkeypatch):
    """On an AVX2-only CPU fast mode takes no bf16; the path and fp32 eager are both timed."""
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))
    code, out, _ = dip("bench", "--preset", "table1", "--size", "40", "--iterations", "1", "--warmup", "0",
                       "--precision", "fast", "--json")
    assert code == 0
    r = json.loads(out)
    assert (r["precision"], r["hardware_class"], r["bf16"]) == ("fast", "cpu-avx2", False)
    assert r["fp32_eager"]["s_per_iter"] > 0 and r["ratio_to_fp32_eager"] > 0


@pytest.mark.parametrize(
    "args,message",
    [
        (["--size", "20"], "below the smallest side"),
        (["--size", "66", "--preset", "sr4"], "not a multiple of the SR factor"),
        (["--size", "80", "--preset", "library_unet"], "not a multiple of 32, which preset 'library_unet' needs"),
        (["--iterations", "0"], "--iterations"),
    ],
)
def test_bench_refuses_bad_arguments(dip, args, message):
    code, _, err = dip("bench", "--preset", "table1", *args, "--json")
    assert code == 2 and message in err
