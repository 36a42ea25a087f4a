"""The state store: links, bases, cursors, journal, conflicts, quarantine, events."""

from syncd.state.store import StateStore, Transaction, open_store

__all__ = ["StateStore", "Transaction", "open_store"]
