"""A client we did not write agrees with the simulator: PyPI's ``afas-connector``.

``afas-connector`` (bakeable/afas-connector, requests-based and synchronous) declares
``Requires-Python >=3.12`` while syncd supports 3.11, so it is not in the ``test``
extra; install it with ``pip install --no-deps --ignore-requires-python afas-connector``
(its code runs on 3.11). Without it these tests are skipped.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from syncd.sim.afas import AfasSimulator
from tests.gateways.afas.helpers import TOKEN, served, simulator

if os.environ.get("CI"):  # .ci/run installs it: there, its absence is a failure
    import afas_connector
else:
    afas_connector = pytest.importorskip("afas_connector")

XML_TOKEN = f"<token><version>1</version><data>{TOKEN}</data></token>"


def debtor(name: str, city: str) -> dict[str, Any]:
    return {
        "KnSalesRelationOrg": {
            "Element": {
                "Fields": {"IsDb": True, "CuId": "EUR", "PaCd": "30"},
                "Objects": [
                    {
                        "KnOrganisation": {
                            "Element": {
                                "Fields": {
                                    "PadAdr": True,
                                    "AutoNum": True,
                                    "MatchOga": "6",
                                    "Nm": name,
                                },
                                "Objects": [
                                    {
                                        "KnBasicAddressAdr": {
                                            "Element": {"Fields": {"CoId": "NL", "Rs": city}}
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


async def test_afas_connector_writes_and_reads_through_the_simulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim: AfasSimulator = simulator()
    async with served(sim) as url:
        connector = afas_connector.AfasConnector(f"{url}/connectors", XML_TOKEN)
        status, created = await asyncio.to_thread(
            connector.post, "KnSalesRelationOrg", debtor("Jansen", "Leusden")
        )
        assert status == 201
        number = created["results"]["KnSalesRelationOrg"]["DbId"]
        await asyncio.to_thread(connector.post, "KnSalesRelationOrg", debtor("Pietersen", "Zeist"))
        update = {
            "KnSalesRelationOrg": {"Element": {"@DbId": number, "Fields": {"VaId": "NL1B01"}}}
        }
        status, _ = await asyncio.to_thread(connector.put, "KnSalesRelationOrg", update)
        assert status == 201

        # its defaults: take=-1&skip=-1 (everything), its own filter encoding (%2C / %3B)
        status, everything = await asyncio.to_thread(connector.get, "syncd_debtors")
        assert status == 200
        assert sorted(r["DebtorName"] for r in everything["rows"]) == ["Jansen", "Pietersen"]
        city = afas_connector.AfasFilter("City", ["Zeist", "Leusden"], [1, 1])
        status, found = await asyncio.to_thread(
            connector.get, "syncd_debtors", 10, 0, [city], "DebtorName", False
        )
        assert status == 200
        assert [r["DebtorName"] for r in found["rows"]] == ["Pietersen", "Jansen"]
        assert next(r for r in found["rows"] if r["DebtorId"] == number)["VatNumber"] == "NL1B01"

        wrong = afas_connector.AfasConnector(f"{url}/connectors", "<token>nope</token>")
        status, body = await asyncio.to_thread(wrong.get, "syncd_debtors")
        assert (status, body) == (401, None)
    capsys.readouterr()  # the package prints every request
