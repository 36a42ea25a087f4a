"""Adaptive polling: sooner after a change, for a while, then back to the interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncd.polling import FAIR_USE_FLOOR, PollPace, next_poll_delay, polls_per_hour, saw_changes

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PACE = PollPace(
    interval=timedelta(seconds=60),
    busy_interval=timedelta(seconds=15),
    busy_for=timedelta(minutes=5),
)


def test_a_lane_that_never_changed_polls_at_the_interval() -> None:
    assert next_poll_delay(None, NOW, PACE) == timedelta(seconds=60)


def test_a_lane_polls_sooner_while_its_last_change_is_recent() -> None:
    for ago in (timedelta(0), timedelta(minutes=2), timedelta(minutes=4, seconds=59)):
        assert next_poll_delay(NOW - ago, NOW, PACE) == timedelta(seconds=15)


def test_a_lane_settles_back_once_quiet_for_busy_for() -> None:
    assert next_poll_delay(NOW - timedelta(minutes=5), NOW, PACE) == timedelta(seconds=60)
    assert next_poll_delay(NOW - timedelta(hours=3), NOW, PACE) == timedelta(seconds=60)


def test_the_busy_pace_never_goes_below_the_fair_use_floor() -> None:
    eager = PollPace(timedelta(seconds=60), timedelta(seconds=1), timedelta(minutes=5))
    assert next_poll_delay(NOW, NOW, eager) == FAIR_USE_FLOOR
    assert polls_per_hour(eager.busy_delay()) == 360


def test_the_busy_pace_is_never_slower_than_the_quiet_one() -> None:
    fast = PollPace(timedelta(seconds=5), timedelta(seconds=15), timedelta(minutes=5))
    assert next_poll_delay(NOW, NOW, fast) == timedelta(seconds=5)


def test_only_what_a_cycle_did_counts_as_a_change() -> None:
    assert saw_changes({"updated_afas": 1})
    assert saw_changes({"linked": 2, "conflicts": 3})
    assert not saw_changes({})
    assert not saw_changes({"conflicts": 3, "creates_in_doubt": 1})  # standing numbers
    assert not saw_changes({"quarantined": 1, "outcome_unknown": 1})  # trouble, not work
