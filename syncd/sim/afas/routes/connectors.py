"""``GET /connectors/{GetConnector}``, ``POST``/``PUT /connectors/{UpdateConnector}`` and
``DELETE /connectors/{UpdateConnector}/{Element}/@{Key}/{value}`` (creditors only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from syncd.sim.afas import contacts
from syncd.sim.afas.query import run
from syncd.sim.afas.responses import json_response, not_supported
from syncd.sim.afas.schema import CONTACT_CONNECTORS
from syncd.sim.afas.store import ProfitError

if TYPE_CHECKING:
    from syncd.sim.afas.simulator import AfasSimulator


class ConnectorRoutes:
    """Serves the connectors over the simulator's environment and data (read at each
    request: a reset or a test replaces them)."""

    def __init__(self, simulator: AfasSimulator) -> None:
        self.simulator = simulator

    def get(self, request: web.Request, name: str) -> web.StreamResponse:
        simulator = self.simulator
        connector = simulator.environment.get_connectors.get(name)
        if connector is None or not self._allowed(name):
            return not_supported(
                simulator.options,
                "GetConnector not supported for this app or the user is not authorized",
            )
        if name in simulator.blocked:
            raise ProfitError("This GetConnector (definition) is blocked")
        params = {k.lower(): v for k, v in request.query.items()}  # names: any case
        body = run(simulator.data, connector, params, simulator.options.query, simulator.rng)
        rows = body["rows"]
        cells = len(rows) * len(connector.fields) if isinstance(rows, list) else 0
        max_cells = simulator.options.max_cells
        if max_cells is not None and cells > max_cells:
            raise ProfitError("Out of String space")
        return json_response(body)

    async def write(
        self, request: web.Request, name: str, subobject: str = ""
    ) -> web.StreamResponse:
        """POST inserts, PUT updates; one element or a list of them. A POST on
        ``name/subobject`` updates the main object and adds the sub-object."""
        simulator = self.simulator
        info = simulator.environment.entity_of(name)
        known = info is not None or name in CONTACT_CONNECTORS
        if not known or not self._allowed(name) or (subobject and info is not None):
            return not_supported(
                simulator.options,
                "General message: Deze UpdateConnector wordt niet ondersteund of de gebruiker "
                "is niet geautoriseerd.",
            )
        try:
            body = await request.json()
        except ValueError:
            return json_response({"message": "Invalid json"}, status=400)
        element = body.get(name) if isinstance(body, dict) else None
        if not isinstance(element, dict) or "Element" not in element:
            raise ProfitError(f"Invalid json: expected {{'{name}': {{'Element': ...}}}}.")
        elements = (
            element["Element"] if isinstance(element["Element"], list) else [element["Element"]]
        )
        data, insert = simulator.data, request.method == "POST"
        if info is None:
            results = [
                contacts.write(data, name, one, insert=insert, subobject=subobject)
                for one in elements
            ]
        else:
            write = data.insert if insert else data.update
            results = [write(info, one) for one in elements]
        keys: object = results[0] if len(results) == 1 else results
        put_status = simulator.options.put_status
        if request.method == "PUT" and put_status == 200:
            return web.Response(status=200)  # some environments answer a PUT with no body
        status = 201 if request.method == "POST" else put_status
        return json_response({"results": {name: keys}}, status=status)

    def delete(self, parts: list[str]) -> web.StreamResponse:
        """``parts``: the connector, the element, ``@`` and the key field, the value."""
        if len(parts) != 4:
            return web.Response(status=404)
        connector, _element, key, value = parts
        info = self.simulator.environment.entity_of(connector)
        if connector in CONTACT_CONNECTORS:
            # Organisations, persons and contacts are never deleted; a contact is blocked.
            raise ProfitError(f"Deleting is not supported by UpdateConnector '{connector}'.")
        if info is None:
            return web.Response(status=404)
        if not info.deletable:
            raise ProfitError(f"Deleting is not supported by UpdateConnector '{connector}'.")
        if key.lstrip("@") != info.key:
            raise ProfitError(f"Field '{key}' is not the key of '{connector}'.")
        self.simulator.data.delete(info.name, value)
        return web.Response(status=200)

    def _allowed(self, name: str) -> bool:
        allowed = self.simulator.options.allowed_connectors
        return allowed is None or name in allowed
