"""Shared fixtures: the offline data mirror and small synthetic images."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _mirror() -> Path | None:
    env = os.environ.get("DIP_DATA_MIRROR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    for c in candidates:
        if (c / "MANIFEST.tsv").is_file():
            return c.resolve()
    return None


@pytest.fixture(scope="session")
def mirror() -> Path:
    """A local directory laid out like the public sources (default ../shared/data).

    Without one the test is skipped, except under CI (env CI set), where it fails.
    """
    m = _mirror()
    if m is None:
        why = "no data mirror: set DIP_DATA_MIRROR to a directory with MANIFEST.tsv"
        if os.environ.get("CI"):  # a green CI run must have run the data tests
            pytest.fail(why)
        pytest.skip(why)
    return m


@pytest.fixture
def one_thread():
    """Tiny nets run faster on one thread than on contended cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
