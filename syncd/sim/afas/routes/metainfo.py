"""``/metainfo``: the connectors this app may use, and each one's fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from syncd.sim.afas.responses import json_response, not_supported
from syncd.sim.afas.schema import UpdateObject

if TYPE_CHECKING:
    from syncd.sim.afas.simulator import AfasSimulator


class MetainfoRoutes:
    """Describes the simulator's environment (read at each request)."""

    def __init__(self, simulator: AfasSimulator) -> None:
        self.simulator = simulator

    def connectors(self) -> web.StreamResponse:
        environment = self.simulator.environment
        return json_response(
            {
                "updateConnectors": [
                    {"id": o.name, "description": o.description}
                    for o in environment.update_connectors.values()
                ],
                "getConnectors": [
                    {"id": c.id, "description": c.description}
                    for c in environment.get_connectors.values()
                ],
                "info": {
                    "envid": "O12345AA",
                    "appName": "syncd",
                    "group": "AuthorizationGroup 101 (12345.SYNCD)",
                    "tokenExpiry": "0",
                },
            }
        )

    def get_connector(self, name: str) -> web.StreamResponse:
        connector = self.simulator.environment.get_connectors.get(name)
        if connector is None:
            return not_supported(
                self.simulator.options,
                "GetConnector not supported for this app or the user is not authorized",
            )
        fields = [
            {
                "id": f.id,
                "fieldId": f"U{i:03d}",
                "dataType": f.type.value,
                "label": f.label,
                "length": f.length,
                "controlType": 1,
                "decimals": 2 if f.type.value == "decimal" else 0,
                "decimalsFieldId": "",
            }
            for i, f in enumerate(connector.fields, start=1)
        ]
        return json_response(
            {"name": connector.id, "description": connector.description, "fields": fields}
        )

    def update_connector(self, name: str) -> web.StreamResponse:
        schema = self.simulator.environment.update_connectors.get(name)
        if schema is None:
            return not_supported(
                self.simulator.options, "Deze UpdateConnector wordt niet ondersteund."
            )
        return json_response(_describe(schema))


def _describe(schema: UpdateObject) -> dict[str, object]:
    return {
        "name": schema.name,
        "id": schema.name,
        "description": schema.description,
        "fields": [
            {
                "fieldId": f.id,
                "primaryKey": False,
                "dataType": f.type.value,
                "label": f.label,
                "mandatory": f.id in schema.required_on_insert,
                "length": f.length,
                "decimals": 0,
                "decimalFieldId": "",
                "notzero": False,
                "controlType": 1,
                "values": [{"id": v, "description": v} for v in f.values] or None,
            }
            for f in schema.fields
        ],
        "objects": [_describe(o) for o in schema.objects],
    }
