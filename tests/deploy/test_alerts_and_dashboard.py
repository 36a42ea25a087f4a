"""The shipped Prometheus alerts and Grafana dashboard (deploy/).

promtool (Debian's prometheus package) checks the rules and the example configuration
that loads them, and fires each alert on synthetic series (syncd-alerts.test.yml beside
this file); the dashboard is a Grafana JSON model whose queries parse; and every metric
either names is one that /metrics serves after real cycles against both simulators.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, Field, model_validator

from syncd.mapping import load_mappings
from syncd.policy import SyncRules
from syncd.sim.afas import AfasSimulator, SimOptions
from syncd.sim.demo import seed_simulators
from syncd.state.store import open_store
from syncd.status.server import StatusSource, make_app
from tests.gateways.afas.helpers import TOKEN, gateway, served
from tests.gateways.hubspot.harness import harness_for
from tests.two_simulators import TwoSimulators

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "syncd-alerts.yml"
RULE_TESTS = Path(__file__).with_name("syncd-alerts.test.yml")
EXAMPLE_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
TOKEN_FILE = "/etc/prometheus/syncd-status-token"
DASHBOARD = ROOT / "deploy" / "grafana" / "syncd-dashboard.json"
PROMTOOL = shutil.which("promtool")
METRIC = re.compile(r"\bsyncd_[a-z_]+\b")
# What Grafana puts in for the dashboard's variables before Prometheus sees a query.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$connection": ".*"}


def need_promtool() -> None:
    """CI installs it (.ci/run); elsewhere its absence only skips the test."""
    if PROMTOOL:
        return
    message = "needs promtool from Debian's prometheus package (.ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def promtool(*args: str | Path) -> None:
    assert PROMTOOL is not None
    done = subprocess.run(
        [PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def read_yaml(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{path}: not a YAML mapping"
    return loaded


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in read_yaml(RULES)["groups"] for rule in group["rules"]]


# --- the Grafana JSON model, as far as this dashboard uses it ---------------------------


class DataSourceRef(BaseModel):
    type: Literal["prometheus"]
    uid: Literal["${datasource}"]  # the dashboard's data source variable


class Target(BaseModel):
    refId: str = Field(min_length=1)
    expr: str = Field(min_length=1)
    legendFormat: str
    datasource: DataSourceRef


class GridPos(BaseModel):
    h: int = Field(gt=0)
    w: int = Field(gt=0, le=24)
    x: int = Field(ge=0)
    y: int = Field(ge=0)

    @model_validator(mode="after")
    def fits_the_width(self) -> GridPos:
        assert self.x + self.w <= 24, "a panel reaches past Grafana's 24 columns"
        return self

    def overlaps(self, other: GridPos) -> bool:
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )


class Panel(BaseModel):
    id: int
    type: Literal["timeseries", "stat", "table"]
    title: str = Field(min_length=1)
    description: str
    gridPos: GridPos
    datasource: DataSourceRef
    targets: list[Target] = Field(min_length=1)
    fieldConfig: dict[str, Any]
    options: dict[str, Any]


class Variable(BaseModel):
    name: str
    type: Literal["datasource", "query"]


class Templating(BaseModel):
    list: list[Variable]


class Dashboard(BaseModel):
    uid: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    title: str = Field(min_length=1)
    schemaVersion: int = Field(ge=36)
    time: dict[str, str]
    templating: Templating
    panels: list[Panel] = Field(min_length=1)


def dashboard() -> Dashboard:
    return Dashboard.model_validate_json(DASHBOARD.read_text(encoding="utf-8"))


def as_prometheus_sees_it(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"a dashboard variable this test does not know: {expr}"
    return expr


# --- the tests --------------------------------------------------------------------------


def test_the_rules_parse_and_each_alert_fires_on_its_series() -> None:
    need_promtool()
    promtool("check", "rules", RULES)
    promtool("test", "rules", RULE_TESTS)
    cases = [case for group in read_yaml(RULE_TESTS)["tests"] for case in group["alert_rule_test"]]
    fired = {case["alertname"] for case in cases if case.get("exp_alerts")}
    assert fired == {rule["alert"] for rule in alert_rules()}


def test_the_example_configuration_scrapes_syncd_and_loads_the_rules(tmp_path: Path) -> None:
    need_promtool()
    config = read_yaml(EXAMPLE_CONFIG)
    assert config["rule_files"] == [RULES.name]
    [job] = config["scrape_configs"]
    assert job["authorization"]["credentials_file"] == TOKEN_FILE
    # promtool reads the token file and the rules it names: a copy beside them here
    shutil.copy(RULES, tmp_path)
    (tmp_path / "token").write_text("a-status-token\n", encoding="utf-8")
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(TOKEN_FILE, str(tmp_path / "token"))
    (tmp_path / "prometheus.yml").write_text(text, encoding="utf-8")
    promtool("check", "config", tmp_path / "prometheus.yml")


def test_the_dashboard_is_a_grafana_model_whose_queries_parse(tmp_path: Path) -> None:
    board = dashboard()
    assert len({p.id for p in board.panels}) == len(board.panels)
    for panel in board.panels:
        assert len({t.refId for t in panel.targets}) == len(panel.targets), panel.title
    for one, other in combinations(board.panels, 2):
        assert not one.gridPos.overlaps(other.gridPos), (one.title, other.title)
    assert {v.name for v in board.templating.list} == {"datasource", "connection"}

    need_promtool()
    # promtool parses PromQL offline only in rule files: one recording rule per query.
    rules = [
        {"record": f"syncd_dashboard:panel_{panel.id}_{target.refId}", "expr": expr}
        for panel in board.panels
        for target in panel.targets
        if (expr := as_prometheus_sees_it(target.expr))
    ]
    queries = tmp_path / "dashboard-queries.yml"
    queries.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    promtool("check", "rules", queries)


@pytest.fixture
async def cycled(tmp_path: Path) -> AsyncIterator[str]:
    """What /metrics serves after a customer and a supplier cycle against both simulators."""
    mappings = load_mappings(ROOT / "mappings", ["customer", "supplier"])
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    sim = AfasSimulator(options=SimOptions(token=TOKEN))
    try:
        async with served(sim) as url, harness_for(mappings, page_size=50) as hs:
            seed_simulators(sim, hs.sim, mappings, 12)
            afas = gateway(url, mappings, page_size=50)
            await hs.hub.start()
            world = TwoSimulators(hs, afas, sim, store, mappings, SyncRules())
            lanes = [("test", "customer"), ("test", "supplier")]
            source = StatusSource(store, lanes, timedelta(minutes=5), lambda: {})
            async with TestClient(TestServer(make_app(source))) as client:
                for entity in ("customer", "supplier"):
                    await world.cycle(entity)
                yield await (await client.get("/metrics")).text()
            await afas.aclose()
    finally:
        await store.close()


def metrics_named(exprs: Iterable[str]) -> set[str]:
    return {name for expr in exprs for name in METRIC.findall(expr)}


async def test_every_metric_the_alerts_and_dashboard_name_is_served(cycled: str) -> None:
    served = {s.name for family in text_string_to_metric_families(cycled) for s in family.samples}
    named_by_alerts = metrics_named(rule["expr"] for rule in alert_rules())
    named_by_board = metrics_named(t.expr for p in dashboard().panels for t in p.targets)
    assert named_by_alerts
    assert named_by_board
    assert named_by_alerts - served == set()
    assert named_by_board - served == set()
