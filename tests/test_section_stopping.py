"""The stopping columns and sentence of the scored task sections (dip.report.sections): what
ES-WMV kept, the traced peak (an oracle) and the gap, from metrics records."""

from dip.report import sections


def _rec(es, fixed, detected, peak, at_peak, iterations=3000):
    return {"output_es": {"psnr": es}, "output": {"psnr": fixed}, "iterations": iterations,
            "early_stop": {"detected_iteration": detected}, "peak": {"psnr": peak, "iteration": at_peak}}


def test_the_columns_and_sentence_of_detected_stops():
    stop = sections._stop([_rec(30.0, 28.0, 400, 30.5, 600), _rec(29.0, 27.0, 600, 30.5, 600)])
    assert sections._stop_cells(stop) == ["29.50 @ 500", "30.50 @ 600", "1.00"]
    (sentence,) = sections._stop_sentence("set9", stop)
    assert sentence == ("set9, stopped without the ground truth (ES-WMV, PSNR on every channel; 2 of 2 fits "
                        "detected a stop): 29.50 dB at iteration 500 on average, +2.00 dB against the fixed "
                        "count's output and 1.00 dB below the traced peak (an oracle, at iteration 600: the "
                        "stop comes before it).")


def test_fits_too_short_to_detect_say_so():
    stop = sections._stop([_rec(20.0, 20.0, None, 20.0, 20, iterations=20)])
    assert sections._stop_cells(stop) == ["20.00 @ 20", "20.00 @ 20", "0.00"]
    assert "detected no stop in 1 fit(s)" in sections._stop_sentence("set5", stop)[0]
    assert sections._stop_cells({}) == ["–"] * 3 and sections._stop_sentence("set5", {}) == []
