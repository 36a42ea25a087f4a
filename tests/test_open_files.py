"""The daemon raises its soft limit of open files to the hard one as it starts."""

from __future__ import annotations

import pytest

from syncd.daemon.open_files import UNLIMITED_TARGET, raise_open_files_limit, wanted_soft_limit

resource = pytest.importorskip("resource")
UNLIMITED = -1


@pytest.mark.parametrize(
    ("soft", "hard", "wanted"),
    [
        (1_024, 524_288, 524_288),  # a usual Linux: up to the hard limit
        (1_024, 1_024, None),  # nothing to raise
        (256, UNLIMITED, UNLIMITED_TARGET),  # macOS: a finite soft limit
        (UNLIMITED, UNLIMITED, None),  # already unlimited
        (100_000, UNLIMITED, None),  # already above what it would ask for
    ],
)
def test_the_soft_limit_asked_for(soft: int, hard: int, wanted: int | None) -> None:
    assert wanted_soft_limit(soft, hard, UNLIMITED) == wanted


def test_this_process_s_soft_limit_reaches_its_hard_one() -> None:
    before, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        now = raise_open_files_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (now, hard)
        assert now is not None
        assert now >= before
        if hard != resource.RLIM_INFINITY:
            assert now == hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (before, hard))
