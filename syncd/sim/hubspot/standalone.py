"""The HubSpot simulator on its own (``syncd sim hubspot``), seeded from a JSON file."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from aiohttp import web

from syncd.sim.hubspot.settings import REALISTIC, SimConfig
from syncd.sim.hubspot.simulator import HubSpotSimulator

CONTACTS = "contact"  # a syncd fixture's contacts; every other entity's rows are companies


def load_seed(path: Path) -> list[dict[str, Any]]:
    """Companies to seed from a JSON file, in either of two shapes.

    ``{"companies": [{"id"?, "properties": {...}, "modified"?, "archived"?}]}``, or a
    syncd fixture (``tests/fixtures/systems.json``): its ``crm`` rows, per entity, with
    ``hs_object_id`` and ``hs_lastmodifieddate``; a company listed under two entities is
    one company whose multiple-checkbox values (``afas_roles``) are joined. Its contacts
    are not companies: :func:`load_contact_seed` reads them.
    """
    document = json.loads(path.read_text(encoding="utf-8"))
    if "companies" in document:
        return list(document["companies"])
    merged: dict[str, dict[str, Any]] = {}
    for entity, rows in (document.get("crm") or {}).items():
        if entity == CONTACTS:
            continue
        for row in rows:
            company_id = str(row["hs_object_id"])
            entry = merged.setdefault(
                company_id,
                {"id": company_id, "modified": row.get("hs_lastmodifieddate"), "properties": {}},
            )
            entry["archived"] = bool(row.get("archived", False))
            for name, value in row.items():
                if name in ("hs_object_id", "hs_lastmodifieddate", "archived") or value is None:
                    continue
                old = entry["properties"].get(name)
                if name == "afas_roles" and old and value not in old.split(";"):
                    value = f"{old};{value}"
                entry["properties"][name] = (
                    str(value).lower() if isinstance(value, bool) else str(value)
                )
    return list(merged.values())


def load_contact_seed(path: Path) -> list[tuple[str, dict[str, str], str | None]]:
    """The contacts of a syncd fixture: (id, properties, primary company id) each."""
    document = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for row in (document.get("crm") or {}).get(CONTACTS, []):
        properties = {
            name: str(value)
            for name, value in row.items()
            if value is not None and name not in ("hs_object_id", "primary_company")
        }
        company = row.get("primary_company")
        found.append(
            (str(row["hs_object_id"]), properties, None if company is None else str(company))
        )
    return found


def serve(
    host: str = "127.0.0.1",
    port: int = 8090,
    *,
    seed: Path | None = None,
    token: str | None = None,
    config: SimConfig | None = None,
) -> None:
    """Run the simulator until interrupted (``syncd sim hubspot --port N``).

    It accepts any Bearer token unless given ``token``; ``seed`` is a JSON file read by
    :func:`load_seed`. Limits and search lag are realistic (:data:`REALISTIC`) unless
    ``config`` says otherwise; the control API under ``/_sim`` changes them while it runs.
    """
    simulator = HubSpotSimulator(token=token, config=config or SimConfig(**asdict(REALISTIC)))
    if seed is not None:
        for item in load_seed(seed):
            simulator.seed_from_json(item)
        for contact_id, properties, company in load_contact_seed(seed):
            simulator.seed_contact(properties, contact_id=contact_id)
            if company is not None:
                simulator.associate(contact_id, company, primary=True)
    web.run_app(simulator.app(), host=host, port=port, print=None)
