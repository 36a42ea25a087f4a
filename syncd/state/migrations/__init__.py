"""Alembic migrations of the state store, run by :func:`syncd.state.store.open_store`.

To add a migration after changing ``syncd/state/tables.py``::

    python -m syncd.state.migrations "what changed"

writes ``versions/NNNN_what_changed.py`` from the difference between the tables and the
newest migration; read it, clean it up, and keep it free of imports from syncd (a migration
is history and must not change when the code does).
"""
