"""Talking to the simulated Profit over HTTP, as the tests of its routes do."""

from __future__ import annotations

from typing import Any

import aiohttp

from syncd.gateways.afas.client import token_header
from tests.gateways.afas.helpers import TOKEN

AUTH = {"Authorization": token_header(TOKEN)}
DEBTOR = {
    "KnSalesRelationOrg": {
        "Element": {
            "Fields": {"IsDb": True, "CuId": "EUR", "PaCd": "30", "VaDu": "1"},
            "Objects": [
                {
                    "KnOrganisation": {
                        "Element": {
                            "Fields": {
                                "PadAdr": True,
                                "AutoNum": True,
                                "MatchOga": "6",
                                "Nm": "Jansen",
                                "CcNr": "93056589",
                            },
                            "Objects": [
                                {
                                    "KnBasicAddressAdr": {
                                        "Element": {
                                            "Fields": {
                                                "CoId": "NL",
                                                "Ad": "Haarlemseweg",
                                                "HmNr": "105",
                                            }
                                        }
                                    }
                                }
                            ],
                        }
                    }
                }
            ],
        }
    }
}


async def call(
    http: tuple[aiohttp.ClientSession, str],
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: object = None,
    query: str = "",
) -> tuple[int, Any, str]:
    session, url = http
    full = f"{url}/{path}" + (f"?{query}" if query else "")
    async with session.request(
        method, full, headers=AUTH if headers is None else headers, json=body
    ) as response:
        text = await response.text()
        try:
            doc = await response.json(content_type=None) if text else None
        except ValueError:
            doc = None
        return response.status, doc, text
