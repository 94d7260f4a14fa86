"""analytics.cost.hours: the pure definition of response time."""

from datetime import UTC, datetime, timedelta

from analytics.cost.hours import Window, involved, involvement, meeting_time, union_length, working_windows

T = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def m(minutes: int) -> datetime:
    return T + timedelta(minutes=minutes)


def test_overlapping_intervals_count_once_and_gaps_do_not_count():
    assert union_length([(m(0), m(30)), (m(10), m(20)), (m(25), m(40)), (m(60), m(70))]) == timedelta(
        minutes=50
    )
    assert union_length([]) == timedelta(0)


def test_windows_close_on_resolution_and_open_on_reopen_and_a_repeated_close_changes_nothing():
    windows = working_windows(
        opened_at=m(0), changes=[(m(90), False), (m(120), True), (m(150), False), (m(190), False)]
    )
    assert windows == [Window(m(0), m(90)), Window(m(120), m(150))]
    assert working_windows(opened_at=m(0), changes=[(m(30), False), (m(40), True)]) == [
        Window(m(0), m(30)),
        Window(m(40), None),
    ]


def test_a_start_runs_to_the_end_of_its_window_and_an_open_window_to_now():
    windows = [Window(m(0), m(60)), Window(m(100), None)]
    # 10..60 and 110..now (130): 50 + 20; a start while resolved (80) adds nothing.
    assert involvement(starts=[m(10), m(30), m(80), m(110)], windows=windows, now=m(130)) == timedelta(
        minutes=70
    )
    # Resolving, at the window's end, takes part but is no time; a note while resolved is neither.
    assert involvement(starts=[m(60)], windows=windows, now=m(130)) == timedelta(0)
    assert involved(starts=[m(60)], windows=windows, now=m(130))
    assert not involved(starts=[m(80)], windows=windows, now=m(130))


def test_the_meeting_counts_once_per_invitee():
    assert meeting_time(length=timedelta(hours=1), invitees=5) == timedelta(hours=5)
    assert meeting_time(length=timedelta(hours=1), invitees=0) == timedelta(0)
