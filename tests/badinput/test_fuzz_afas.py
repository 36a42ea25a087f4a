"""Fuzzing AFAS's answers: the GetConnector parser and the error-body parser.

Whatever AFAS (or something in its place) answers, syncd raises only its own errors
(SyncdError) or reads records and rejections; a good row is never lost next to a bad one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from syncd.errors import RecordError, SyncdError
from syncd.gateways.afas.client import AfasClient, _read_answer
from syncd.gateways.afas.gateway import AfasGateway
from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.records import Page
from tests.badinput.strategies import FUZZ, FUZZ_SLOW, json_values, junk_row, words
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS

MAPPINGS = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
SPEC = MAPPINGS["customer"].afas
NATIVE_KEYS = [SPEC.id, SPEC.modified, SPEC.correlation, *SPEC.inactive] + [
    f.afas for f in MAPPINGS["customer"].fields
]


class CannedClient(AfasClient):
    """Answers every GET with one document, as if AFAS had sent it."""

    def __init__(self, answer: Any) -> None:
        super().__init__("http://127.0.0.1:9/ProfitRestServices", token="unused")
        self.answer = answer

    async def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        return self.answer


def listed(answer: Any) -> Page:
    """Every page ``list_all`` makes of ``answer`` (one page: fewer rows than page_size)."""
    gateway = AfasGateway(CannedClient(answer), MAPPINGS, page_size=500)

    async def collect() -> Page:
        page = Page()
        async for part in gateway.list_all("customer"):
            page.records.extend(part.records)
            page.rejected.extend(part.rejected)
        return page

    return asyncio.run(collect())


good_rows = st.lists(
    st.builds(
        lambda name, second: {
            SPEC.modified: f"2025-03-01T10:00:{second:02d}Z",
            SPEC.inactive[0]: False,
            "DebtorName": name,
            "City": "Utrecht",
        },
        words,
        st.integers(0, 59),
    ),
    max_size=6,
)
junk_rows = st.lists(junk_row(NATIVE_KEYS), max_size=6)


@FUZZ
@given(answer=json_values)
@example({"rows": [{SPEC.id: "1", SPEC.modified: "0001-01-01T00:00:00Z"}]})  # overflows UTC
@example({"rows": [{SPEC.id: "1", SPEC.modified: "2025-03-01T10:00:00Z", "Blocked": "ja"}]})
def test_any_json_answer_gives_records_or_a_syncd_error(answer: Any) -> None:
    try:
        page = listed(answer)
    except SyncdError:
        return
    for record in page.records:
        assert isinstance(record.id, str)


@FUZZ_SLOW
@given(good=good_rows, junk=junk_rows, order=st.randoms(use_true_random=False))
def test_a_good_row_is_never_lost_next_to_bad_ones(
    good: list[dict[str, Any]], junk: list[dict[str, Any]], order: Any
) -> None:
    rows: list[dict[str, Any]] = [{**row, SPEC.id: f"{10000 + n}"} for n, row in enumerate(good)]
    rows += [{**row, SPEC.id: f"9{n}"} if n % 2 else row for n, row in enumerate(junk)]
    order.shuffle(rows)
    try:
        page = listed({"skip": 0, "take": 500, "rows": rows})
    except SyncdError:
        return  # the page was refused whole: nothing skipped unseen
    read = {r.id for r in page.records}
    assert {f"{10000 + n}" for n in range(len(good))} <= read
    seen = read | {r.id for r in page.rejected}
    for row in rows:
        if row.get(SPEC.inactive[0]) not in (True, 1, "true", "1"):
            assert str(row[SPEC.id]) in seen


ERROR_KEYS = st.sampled_from(["externalMessage", "message", "profitLogReference"])


@FUZZ
@given(
    status=st.sampled_from([200, 201, 204, 400, 401, 403, 404, 409, 500, 502, 503, 504]),
    body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
    write=st.booleans(),
)
def test_any_answer_body_gives_json_or_a_syncd_error(status: int, body: bytes, write: bool) -> None:
    error = raised(lambda: _read_answer("AFAS GET connectors/x", status, {}, body, write))
    if 200 <= status < 300 and not write:
        assert error is None or "unreadable body" in str(error)
    if status >= 300:
        assert error is not None  # an error status is never taken for an answer


@FUZZ
@given(body=st.dictionaries(ERROR_KEYS | st.text(max_size=8), json_values, max_size=4))
def test_any_update_connector_error_body_names_the_request(body: dict[str, Any]) -> None:
    what = "AFAS PUT connectors/KnSalesRelationOrg"
    with pytest.raises(SyncdError) as caught:
        _read_answer(what, 500, {}, json.dumps(body), True)
    if isinstance(caught.value, RecordError):
        assert "AFAS refused the record" in str(caught.value)
    else:
        assert what in str(caught.value)


def raised(call: Callable[[], object]) -> SyncdError | None:
    """The SyncdError ``call`` raises, or None; any other exception fails the test."""
    try:
        call()
    except SyncdError as error:
        return error
    return None
