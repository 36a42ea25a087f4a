"""The exceptions syncd raises, grouped by what the caller does about them.

::

    SyncdError                      anything syncd raises on purpose
    ├── ConfigError(problems)       bad config.toml or mapping file: report all, do not start
    ├── GatewayError                a side failed to answer as it should
    │   ├── TransientError          retry later (honour retry_after); the cycle stops cleanly
    │   ├── OutcomeUnknownError     a write may or may not have happened: look it up first
    │   └── PermanentError          retrying will not help
    │       └── AuthError           credentials refused: stop the connection, tell the operator
    ├── RecordError                 one record cannot be read or written: quarantine it, go on
    ├── StateError                  the state store failed, its transaction undone: stop the cycle
    │   └── DuplicateLinkError      that record is already linked: nothing saved, transaction usable
    └── GuardTripped                the plan looks destructive: write nothing until confirmed

Messages never contain secrets: tokens are read from the environment and never passed
into an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SyncdError(Exception):
    """Base of every error syncd raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: where it is, what is wrong, what to do."""

    source: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.key}" if self.key else self.source
        return f"{where}: {self.message}"


class ConfigError(SyncdError):
    """A configuration or mapping file is invalid; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the configuration:\n{lines}")


class GatewayError(SyncdError):
    """A side (CRM or AFAS) did not answer as it should."""


class TransientError(GatewayError):
    """Worth retrying later; ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OutcomeUnknownError(GatewayError):
    """A write was sent but its result never came back: it may have been applied."""


class PermanentError(GatewayError):
    """Retrying the same request will not help."""


class AuthError(PermanentError):
    """The side refused our credentials or rights."""


class RecordError(SyncdError):
    """One record cannot be read or written; it is quarantined and the others go on."""

    def __init__(self, message: str, *, field: str | None = None, reference: str | None = None):
        super().__init__(message)
        self.field = field
        self.reference = reference  # e.g. AFAS's profitLogReference


class TakenError(RecordError):
    """A create was refused because a unique value (a HubSpot contact's e-mail) is
    another record's already: ``existing_id`` is that record, to adopt rather than
    duplicate when it is the same person."""

    def __init__(self, message: str, *, existing_id: str, field: str | None = None):
        super().__init__(message, field=field)
        self.existing_id = existing_id


class StateError(SyncdError):
    """The state store cannot be opened, read or written; nothing of the failed step is kept."""


class DuplicateLinkError(StateError):
    """Saving a link would give a record a second link; the link was not saved."""

    def __init__(self, message: str, *, existing_link_id: int | None = None) -> None:
        super().__init__(message)
        self.existing_link_id = existing_link_id


class GuardTripped(SyncdError):
    """A safety guard refused the plan; nothing was written."""

    def __init__(self, guard: str, message: str) -> None:
        super().__init__(message)
        self.guard = guard


def for_people(error: BaseException) -> str:
    """What ``error`` says to an operator: syncd's own errors are written for people;
    anything else is a bug in syncd, said as such (the class name means nothing to them)."""
    if isinstance(error, SyncdError):
        return str(error)
    return f"unexpected error in syncd, please report it: {error or 'no details'}"
