"""The control API under ``/_sim`` (no token): what tests, benchmarks and the demo use to
seed, edit, merge, inject faults and read the counts, over HTTP."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from aiohttp import web

from syncd.sim.hubspot.faults import Fault
from syncd.sim.hubspot.properties import PropertyDef, parse_datetime
from syncd.sim.hubspot.webhooks import Subscription

if TYPE_CHECKING:
    from syncd.sim.hubspot.simulator import HubSpotSimulator


class ControlRoutes:
    """Each route calls the simulator's Python API of the same purpose."""

    def __init__(self, simulator: HubSpotSimulator) -> None:
        self.simulator = simulator

    def add_to(self, app: web.Application) -> None:
        add = app.router.add_route
        add("GET", "/_sim/config", self.settings)
        add("PATCH", "/_sim/config", self.configure)
        add("POST", "/_sim/reset", self.reset)
        add("POST", "/_sim/companies", self.seed)
        add("GET", "/_sim/companies/{company_id}", self.company)
        add("PATCH", "/_sim/companies/{company_id}", self.edit)
        add("POST", "/_sim/companies/{company_id}/archive", self.archive)
        add("POST", "/_sim/companies/{company_id}/restore", self.restore)
        add("POST", "/_sim/merge", self.merge)
        add("POST", "/_sim/contacts", self.seed_contacts)
        add("GET", "/_sim/contacts/{contact_id}", self.contact)
        add("PATCH", "/_sim/contacts/{contact_id}", self.edit_contact)
        add("POST", "/_sim/contacts/{contact_id}/archive", self.archive_contact)
        add("POST", "/_sim/contacts/{contact_id}/restore", self.restore_contact)
        add("POST", "/_sim/associations", self.associate)
        add("POST", "/_sim/properties", self.define_property)
        add("POST", "/_sim/faults", self.add_fault)
        add("DELETE", "/_sim/faults", self.clear_faults)
        add("GET", "/_sim/requests", self.counts)
        add("DELETE", "/_sim/requests", self.clear_counts)
        add("GET", "/_sim/log", self.log)
        add("PUT", "/_sim/webhooks", self.subscribe_webhooks)
        add("GET", "/_sim/webhooks", self.webhook_deliveries)
        add("DELETE", "/_sim/webhooks", self.unsubscribe_webhooks)

    async def subscribe_webhooks(self, request: web.Request) -> web.Response:
        given = await request.json()
        try:
            subscription = Subscription(**given)
        except TypeError as error:
            raise web.HTTPBadRequest(text=f"{error}; give target_url and client_secret") from None
        await self.simulator.subscribe_webhooks(subscription)
        return web.Response(status=204)

    async def webhook_deliveries(self, request: web.Request) -> web.Response:
        sender = self.simulator.webhooks
        if sender is None:
            return web.json_response({"subscribed": False})
        done = sender.deliveries
        return web.json_response(
            {
                "subscribed": True,
                "requests": done.requests,
                "failed": done.failed,
                "delivered": len(done.delivered),
                "dropped": len(done.dropped),
            }
        )

    async def unsubscribe_webhooks(self, request: web.Request) -> web.Response:
        await self.simulator.unsubscribe_webhooks()
        return web.Response(status=204)

    async def settings(self, request: web.Request) -> web.Response:
        return web.json_response(asdict(self.simulator.config))

    async def configure(self, request: web.Request) -> web.Response:
        self.simulator.configure(**await request.json())
        return web.json_response(asdict(self.simulator.config))

    async def reset(self, request: web.Request) -> web.Response:
        self.simulator.reset()
        return web.Response(status=204)

    async def seed(self, request: web.Request) -> web.Response:
        companies = (await request.json())["companies"]
        ids = [self.simulator.seed_from_json(item) for item in companies]
        return web.json_response({"ids": ids}, status=201)

    async def company(self, request: web.Request) -> web.Response:
        company = self.simulator.company(request.match_info["company_id"])
        return web.json_response(
            {**company.public(company.properties), "mergedInto": company.merged_into}
        )

    async def edit(self, request: web.Request) -> web.Response:
        properties = (await request.json())["properties"]
        self.simulator.edit(request.match_info["company_id"], properties)
        return web.Response(status=204)

    async def archive(self, request: web.Request) -> web.Response:
        self.simulator.archive(request.match_info["company_id"])
        return web.Response(status=204)

    async def restore(self, request: web.Request) -> web.Response:
        self.simulator.restore(request.match_info["company_id"])
        return web.Response(status=204)

    async def merge(self, request: web.Request) -> web.Response:
        body = await request.json()
        survivor = self.simulator.merge(
            str(body["primary"]), str(body["other"]), new_id=body.get("new_id")
        )
        return web.json_response({"id": survivor})

    async def seed_contacts(self, request: web.Request) -> web.Response:
        """Seed ``{"contacts": [{"id"?, "properties", "modified"?, "archived"?}]}``."""
        ids = []
        for item in (await request.json())["contacts"]:
            modified = item.get("modified")
            ids.append(
                self.simulator.seed_contact(
                    item.get("properties") or {},
                    contact_id=str(item["id"]) if item.get("id") else None,
                    modified=parse_datetime(str(modified)) if modified else None,
                    archived=bool(item.get("archived", False)),
                )
            )
        return web.json_response({"ids": ids}, status=201)

    async def contact(self, request: web.Request) -> web.Response:
        contact = self.simulator.contact(request.match_info["contact_id"])
        return web.json_response(
            {**contact.public(contact.properties), "mergedInto": contact.merged_into}
        )

    async def edit_contact(self, request: web.Request) -> web.Response:
        properties = (await request.json())["properties"]
        self.simulator.edit_contact(request.match_info["contact_id"], properties)
        return web.Response(status=204)

    async def archive_contact(self, request: web.Request) -> web.Response:
        contacts = self.simulator.contacts
        contacts.archive(contacts.get(request.match_info["contact_id"]))
        return web.Response(status=204)

    async def restore_contact(self, request: web.Request) -> web.Response:
        self.simulator.contacts.restore(request.match_info["contact_id"])
        return web.Response(status=204)

    async def associate(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.simulator.associate(
            str(body["contact"]), str(body["company"]), primary=bool(body.get("primary"))
        )
        return web.Response(status=204)

    async def define_property(self, request: web.Request) -> web.Response:
        """Add or replace a property definition (HubSpot's JSON for one)."""
        prop = PropertyDef.from_json(await request.json())
        self.simulator.portal.properties[prop.name] = prop
        return web.json_response(prop.to_json(), status=201)

    async def add_fault(self, request: web.Request) -> web.Response:
        self.simulator.fail(Fault(**await request.json()))
        return web.Response(status=204)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.simulator.faults.clear()
        return web.Response(status=204)

    async def counts(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.simulator.counts))

    async def clear_counts(self, request: web.Request) -> web.Response:
        self.simulator.counts.clear()
        return web.Response(status=204)

    async def log(self, request: web.Request) -> web.Response:
        return web.json_response(self.simulator.request_log.as_json())
