"""The state store: links, bases, cursors, journal, conflicts, quarantine, events."""
