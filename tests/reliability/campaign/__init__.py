"""Fault and crash campaigns: syncd against both simulators, with everything going wrong.

Many seeded runs; in each, users edit and create companies on both sides while syncd
syncs through faults (:mod:`~tests.reliability.campaign.fault_campaign`, in process) or is
killed at random moments (:mod:`~tests.reliability.campaign.crash_campaign`, ``syncd run`` as a
real process). Then the faults stop and the invariants below are checked; the result
is a :class:`~tests.reliability.campaign.figures.Figures` table (``bench/campaign.py``).

Definitions (a company's true identity is its KvK number, from the generator; no user
edit changes it):

edit
    A unique value a user writes to one field (city, street, website) of one record of
    a company, through the simulator's user API, at a known point in the run's order.
    Users edit between rounds of cycles, or in the middle of one of syncd's listings;
    never while a write of syncd's is still in flight on that system (a simulator holds
    a write whose client timed out for a while): a write that lands after a user's edit
    of the same field overwrites it in the system itself, which no client can prevent.
lost edit
    An edit whose value, at the end, is on neither side (in no record of that company,
    compared in the field's normal form), that was not superseded by a later edit of the
    same field of the same company (on either side, in either entity), and that is not
    held by an open conflict (with rule ``manual`` a conflict keeps both values: its
    CRM or AFAS value equals the edit's, on a link of that company), nor overwritten by
    a first link as configured: made before that company's pair was first linked (its
    time is the status log's ``record_linked``), on the side the field's ``first_link``
    does not take, and replaced in that record by the value the other side held at the
    link (its last edit before it, or what it was seeded with), never by a blank. Only
    the last edit of each field of each company can therefore be lost.
duplicate
    A company present more than once on a side: more than one live HubSpot company with
    its KvK number (one company holds both roles), or more than one active record with
    it in one AFAS table (debtors, creditors).
converged
    After the faults stop, within ``converge_limit`` rounds of cycles, a round writes
    nothing (no create, update, link, adoption, deactivation; open conflicts are counted
    but write nothing), and then: every company is exactly once on each side for every
    entity it belongs to, the two records are linked, and they agree on every field
    synced both ways, or the difference is an open conflict of their link. Cycles to
    converge counts fault-free cycles per entity until the first quiet one.

With the contact mapping, the runs sync contacts too: a person's identity is their work
e-mail, users edit contacts' phone numbers and job titles (edits as above, by e-mail), and
:mod:`~tests.reliability.campaign.contact_checks` defines what is checked of contacts (no
duplicate, every contact of a linked company linked once, at the right organisation,
prospects' contacts waiting); :mod:`~tests.reliability.campaign.people` who works where.
"""

from tests.reliability.campaign.crash_campaign import CrashCampaign, run_crash_campaign
from tests.reliability.campaign.fault_campaign import FaultCampaign, run_fault_campaign
from tests.reliability.campaign.figures import Figures, RunResult

__all__ = [
    "CrashCampaign",
    "FaultCampaign",
    "Figures",
    "RunResult",
    "run_crash_campaign",
    "run_fault_campaign",
]
