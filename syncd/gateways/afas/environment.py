"""What a Profit environment lacks for the mappings: the connectors the app connector
must offer, and the fields each GetConnector must show (for ``syncd check``)."""

from __future__ import annotations

from collections.abc import Mapping

from syncd.gateways.afas.client import AfasClient
from syncd.mapping import EntityMapping
from syncd.records import Side

__all__ = ["missing_in_environment"]

# A contact is added under its organisation and its person's names are changed apart
# (docs/afas-setup.md, "Contact persons").
_CONTACT_CONNECTORS = ("KnOrganisation", "KnPerson")


async def missing_in_environment(
    client: AfasClient, mappings: Mapping[str, EntityMapping]
) -> list[str]:
    """What the environment lacks for the mappings, one sentence each (empty: all there).

    Asks ``/metainfo`` which connectors the app connector offers and
    ``/metainfo/get/{id}`` which fields each GetConnector has.
    """
    meta = await client.get("metainfo")
    offered = {
        kind: {str(c.get("id")) for c in meta.get(kind, []) if isinstance(c, dict)}
        for kind in ("getConnectors", "updateConnectors")
    }
    problems: list[str] = []
    for entity, mapping in mappings.items():
        spec = mapping.afas
        get, update = spec.options["get_connector"], spec.options["update_connector"]
        updates = [update, *(_CONTACT_CONNECTORS if update == "KnContact" else ())]
        for name in updates:
            if name not in offered["updateConnectors"]:
                problems.append(f"{entity}: the app connector lacks UpdateConnector {name}")
        if get not in offered["getConnectors"]:
            problems.append(f"{entity}: the app connector lacks GetConnector {get}")
            continue
        fields = await client.get(f"metainfo/get/{get}")
        have = {str(f.get("id")) for f in fields.get("fields", []) if isinstance(f, dict)}
        wanted = [spec.id, spec.modified, spec.correlation, *spec.inactive, *spec.inactive_from]
        wanted.append(spec.options["organisation"])
        wanted += [spec.options["person"]] if spec.options.get("person") else []
        wanted += [name for f in mapping.fields for name in f.native_names(Side.AFAS)]
        missing = [name for name in wanted if name not in have]
        if missing:
            problems.append(f"{entity}: GetConnector {get} lacks {', '.join(missing)}")
    return problems
