"""Room for open files: the daemon's soft limit raised to the hard one as it starts.

Each connection keeps sockets open to its two sides (kept alive between requests), and
the state store a few database files; a hundred connections can need more than the soft
limit most systems start a process with (1,024). The hard limit, which an operator or
the container runtime sets, is the real bound: a process may raise its soft limit up
to it without rights. syncd waits on its sockets with epoll, never ``select()``, so
descriptors above 1,024 are safe.
"""

from __future__ import annotations

import logging

try:
    import resource
except ImportError:  # not on Unix: no such limits
    resource = None  # type: ignore[assignment]

LOG = logging.getLogger(__name__)

UNLIMITED_TARGET = 65_536  # a finite soft limit when the hard one is unlimited (macOS)


def wanted_soft_limit(soft: int, hard: int, unlimited: int) -> int | None:
    """The soft limit to ask for, or None to leave ``soft`` as it is."""
    if soft == unlimited:
        return None
    target = UNLIMITED_TARGET if hard == unlimited else hard
    return target if target > soft else None


def raise_open_files_limit() -> int | None:
    """Raise this process's soft limit of open files to the hard one; the soft limit
    now, or None where there are no such limits."""
    if resource is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = wanted_soft_limit(soft, hard, resource.RLIM_INFINITY)
    if wanted is None:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError) as error:  # a system that caps below its hard limit
        LOG.warning("syncd: open files stay limited to %d: %s", soft, error)
        return soft
    return wanted
