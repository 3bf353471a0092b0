"""The one place tables take their means, spreads and counts from, and how they read."""

import math
import statistics

import pytest

from dip.report.aggregate import k_of_n, mean, mean_std, number, pm, stats


def test_stats_are_the_textbook_ones_over_the_finite_values():
    values = [31.2, 30.7, None, 32.05, math.nan, math.inf]
    s = stats(values)
    kept = [31.2, 30.7, 32.05]
    assert s["n"] == 3 and s["min"] == 30.7 and s["max"] == 32.05
    assert s["mean"] == pytest.approx(statistics.fmean(kept), abs=1e-12)
    assert s["std"] == pytest.approx(statistics.stdev(kept), abs=1e-12)
    assert stats([29.0])["std"] is None and stats([])["mean"] is None
    assert mean_std(iter([1.0, 3.0])) == (2.0, pytest.approx(math.sqrt(2)))


def test_a_mean_over_images_can_require_every_image():
    assert mean([30.0, None, 32.0]) == 31.0
    assert mean([30.0, None, 32.0], complete=True) is None
    assert mean([], complete=True) is None and mean([30.0, 32.0], complete=True) == 31.0


def test_numbers_read_the_same_in_every_table():
    assert number(None) == number(math.nan) == "–"
    assert number(1.234) == "1.23" and number(0.5, signed=True) == "+0.50" and number(0.1234, 3) == "0.123"
    assert pm(31.234, 0.456) == "31.23 ± 0.46" and pm(31.234, None) == "31.23"
    assert pm(None, 0.4) == "–" and pm(None, None, missing="unavailable") == "unavailable"
    assert k_of_n(2, 3) == "2 of 3" and k_of_n(3, 3) == "3" and k_of_n(1, None) == "1"
    assert k_of_n(1, 3, "seeds") == "1 of 3 seeds"
