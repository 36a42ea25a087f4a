"""Carrying out a plan: journal the intent, call the side, commit the outcome.

Each write follows the same three steps, so a crash at any point leaves every field at
its old or its final agreed value:

1. the intent is committed to the journal (``pending``);
2. the side is called;
3. base, link, journal row and status event are committed in one transaction (one per
   request: every record the request wrote).

Actions that write nothing outside (links, bases that both sides already agree on,
conflicts, quarantine) are committed together, one transaction per kind of action,
instead of one each. A write whose response never came back stays ``pending``; the next
cycle settles it (:mod:`syncd.engine.recovery`) before anything is written again.

- :mod:`.applier`: :class:`~.applier.Applier`, the entry point, runs the phases in order;
- :mod:`.lanes`: the phases, actions cut into requests, and both sides written at once;
- :mod:`.side_writes`: the journalled writes to a side (updates, creates, deactivations);
- :mod:`.links`: what changes a pair's link (link, adopt, repoint, base, detach);
- :mod:`.conflicts`, :mod:`.quarantine`: conflicts opened and closed, records held back;
- :mod:`.context` and :mod:`.journal`: what they all share.
"""
