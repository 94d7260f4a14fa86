"""The shared duration and rate formatters keep each caller's format (common/formatting.py)."""

from datetime import timedelta

import pytest

from common.formatting import duration_hours_minutes, duration_precise, duration_rounded, percent_text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30, "30 s"), (45 * 60, "45 min"), (150 * 60, "2.5 h"), (3 * 86400, "3.0 d")],
)
def test_duration_rounded(seconds, text):
    assert duration_rounded(timedelta(seconds=seconds)) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30, "30 s"), (45 * 60 + 20, "45 min"), (2 * 3600 + 13 * 60, "2 h 13 min")],
)
def test_duration_hours_minutes(seconds, text):
    assert duration_hours_minutes(timedelta(seconds=seconds)) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1.2, "1.2 s"), (45, "45 s"), (185, "3 min 5 s"), (180, "3 min"), (7800, "2 h 10 min"), (7200, "2 h")],
)
def test_duration_precise(seconds, text):
    assert duration_precise(timedelta(seconds=seconds)) == text


def test_empty_values():
    assert duration_rounded(None) == "n/a"
    assert duration_rounded(None, empty="-") == "-"
    assert duration_hours_minutes(None) == ""
    assert duration_precise(None) == "-"
    assert percent_text(None) == "n/a"
    assert percent_text(None, empty="-") == "-"
    assert percent_text(0.4249) == "42%"
