"""Memory freed by cycles goes back to the system: after changes, at most once a period."""

from __future__ import annotations

import platform
from datetime import UTC, datetime, timedelta

import pytest

from syncd.daemon.trimming import TRIM_PERIOD, MemoryHandBack, glibc_trim, limit_arenas

START = datetime(2026, 12, 8, tzinfo=UTC)


class Trims:
    """A fake ``malloc_trim``, and a clock moved by hand."""

    def __init__(self) -> None:
        self.now = START
        self.at: list[datetime] = []

    def clock(self) -> datetime:
        return self.now

    def trim(self) -> None:
        self.at.append(self.now)


def test_idle_cycles_never_trim() -> None:
    trims = Trims()
    hand_back = MemoryHandBack(trims.clock, trims.trim)
    for minute in range(10):
        trims.now = START + timedelta(minutes=minute)
        hand_back.cycle_ended(changed=False)
    assert trims.at == []


def test_cycles_with_changes_trim_at_most_once_a_period() -> None:
    trims = Trims()
    hand_back = MemoryHandBack(trims.clock, trims.trim, period=timedelta(seconds=60))
    for second in range(0, 300, 5):  # a changed cycle every 5 s for 5 minutes
        trims.now = START + timedelta(seconds=second)
        hand_back.cycle_ended(changed=True)
    assert trims.at == [START + timedelta(seconds=s) for s in (0, 60, 120, 180, 240)]
    assert hand_back.trims == 5


def test_the_first_change_after_a_quiet_spell_trims_at_once() -> None:
    trims = Trims()
    hand_back = MemoryHandBack(trims.clock, trims.trim)
    hand_back.cycle_ended(changed=True)
    trims.now = START + TRIM_PERIOD * 3
    hand_back.cycle_ended(changed=False)
    hand_back.cycle_ended(changed=True)
    assert trims.at == [START, START + TRIM_PERIOD * 3]


def test_without_a_trim_call_nothing_is_done() -> None:
    hand_back = MemoryHandBack(Trims().clock, None)
    hand_back.cycle_ended(changed=True)
    assert hand_back.trims == 0


def test_glibc_s_trim_is_found_where_the_c_library_is_glibc() -> None:
    trim = glibc_trim()
    assert (trim is not None) == (platform.libc_ver()[0] == "glibc")
    if trim is not None:
        trim()


def test_an_operator_s_arena_limit_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert not limit_arenas()


def test_the_arenas_are_limited_where_the_c_library_is_glibc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_arenas(8) == (platform.libc_ver()[0] == "glibc")  # 8: harmless here
