"""What an operator settles by hand, one record or many by a filter: conflicts (take a
side, give a value) and quarantined records (retry now, drop).

The CLI and the status page both act through these functions, and a bulk action goes
through the same single-record steps, so each record is journalled and has its status
event naming who did it, exactly as if it had been settled alone.
"""

from syncd.engine.settle.conflicts import settle_conflicts
from syncd.engine.settle.filter import (
    FilterError,
    RecordFilter,
    SelectedConflict,
    conflict_matches,
    parse_age,
    quarantined_matches,
)
from syncd.engine.settle.outcome import Outcome, Settlement
from syncd.engine.settle.quarantine import (
    drop_quarantined,
    drop_quarantined_record,
    retry_quarantined,
    retry_quarantined_record,
)
from syncd.engine.settle.select import select_conflicts, select_quarantined

__all__ = [
    "FilterError",
    "Outcome",
    "RecordFilter",
    "SelectedConflict",
    "Settlement",
    "conflict_matches",
    "drop_quarantined",
    "drop_quarantined_record",
    "parse_age",
    "quarantined_matches",
    "retry_quarantined",
    "retry_quarantined_record",
    "select_conflicts",
    "select_quarantined",
    "settle_conflicts",
]
