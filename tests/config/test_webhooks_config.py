"""[connections.<name>.webhooks] and [webhooks]: off unless the table is there; the
public URL and the client secret's variable checked, each problem naming its place."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from syncd.config import load_settings
from syncd.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
ENV = {"HUBSPOT_TOKEN": "pat-na1-x", "HUBSPOT_CLIENT_SECRET": "s3cr3t-value"}


def config(tmp_path: Path, webhooks: str, *, crm: str = 'kind = "hubspot"') -> Path:
    shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[connections.main]
crm = {{ {crm}, token = "HUBSPOT_TOKEN" }}
afas = {{ kind = "memory" }}
{webhooks}
""",
        encoding="utf-8",
    )
    return path


def problems(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env=ENV)
    return [(p.key, p.message) for p in caught.value.problems]


TABLE = """
[connections.main.webhooks]
public_url = "https://sync.example.com/hubspot/webhooks/main"
client_secret_env = "HUBSPOT_CLIENT_SECRET"
"""


def test_webhooks_are_off_by_default(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path, ""), env=ENV)
    assert settings.connections[0].webhooks is None


def test_a_webhooks_table_switches_them_on(tmp_path: Path) -> None:
    path = config(tmp_path, TABLE + "\n[webhooks]\nport = 9000\ngather_seconds = 2\n")
    settings = load_settings(path, env=ENV)

    webhooks = settings.connections[0].webhooks
    assert webhooks is not None
    assert webhooks.public_url == "https://sync.example.com/hubspot/webhooks/main"
    assert webhooks.client_secret.value == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings.connections[0])
    assert (settings.webhooks.port, settings.webhooks.gather) == (9000, timedelta(seconds=2))


def test_a_plain_http_url_elsewhere_is_refused(tmp_path: Path) -> None:
    table = TABLE.replace("https://sync.example.com", "http://sync.example.com")
    ((key, message),) = problems(config(tmp_path, table))
    assert key == "connections.main.webhooks.public_url"
    assert "expected the https URL HubSpot calls" in message


def test_the_client_secret_must_be_set(tmp_path: Path) -> None:
    table = TABLE.replace("HUBSPOT_CLIENT_SECRET", "NOT_SET_HERE")
    ((key, message),) = problems(config(tmp_path, table))
    assert key == "connections.main.webhooks.client_secret_env"
    assert "NOT_SET_HERE is not set" in message


def test_a_secret_put_in_the_file_is_not_shown(tmp_path: Path) -> None:
    table = TABLE.replace('"HUBSPOT_CLIENT_SECRET"', '"abc-123-secret"')
    ((_, message),) = problems(config(tmp_path, table))
    assert "abc-123-secret" not in message


def test_webhooks_need_a_hubspot_crm(tmp_path: Path) -> None:
    path = (
        config(tmp_path, TABLE, crm='kind = "memory"')
        .read_text()
        .replace(', token = "HUBSPOT_TOKEN"', "")
    )
    (tmp_path / "config.toml").write_text(path, encoding="utf-8")
    ((key, message),) = problems(tmp_path / "config.toml")
    assert key == "connections.main.webhooks"
    assert "webhooks come from HubSpot" in message


JOURNAL = """
[connections.main.journal]
client_id = "5a3b0e7c-app"
client_secret_env = "HUBSPOT_CLIENT_SECRET"
"""
WITH_PORTAL = 'kind = "hubspot", portal_id = 62515'


def test_the_journal_is_off_by_default_and_polls_every_five_seconds(tmp_path: Path) -> None:
    assert load_settings(config(tmp_path, ""), env=ENV).connections[0].journal is None
    settings = load_settings(config(tmp_path / "on", JOURNAL, crm=WITH_PORTAL), env=ENV)
    journal = settings.connections[0].journal
    assert journal is not None
    assert journal.poll == timedelta(seconds=5)
    assert (journal.client_id, journal.portal_id) == ("5a3b0e7c-app", 62515)
    assert journal.client_secret.value == "s3cr3t-value"


def test_the_journal_goes_with_webhooks_or_alone(tmp_path: Path) -> None:
    table = TABLE + JOURNAL + "poll_seconds = 2\n"
    connection = load_settings(config(tmp_path, table, crm=WITH_PORTAL), env=ENV).connections[0]
    assert connection.webhooks is not None
    assert connection.journal is not None
    assert connection.journal.poll == timedelta(seconds=2)


def test_a_journal_poll_under_a_second_is_refused(tmp_path: Path) -> None:
    table = JOURNAL + "poll_seconds = 0.1\n"
    ((key, _),) = problems(config(tmp_path, table, crm=WITH_PORTAL))
    assert key == "connections.main.journal.poll_seconds"


def test_the_journal_needs_the_apps_credentials(tmp_path: Path) -> None:
    found = problems(config(tmp_path, "[connections.main.journal]\n", crm=WITH_PORTAL))
    assert sorted(key for key, _ in found) == [
        "connections.main.journal.client_id",
        "connections.main.journal.client_secret_env",
    ]


def test_the_journal_needs_the_portal_id(tmp_path: Path) -> None:
    ((key, message),) = problems(config(tmp_path, JOURNAL))
    assert key == "connections.main.journal"
    assert "set portal_id" in message


def test_the_journal_needs_a_hubspot_crm(tmp_path: Path) -> None:
    text = config(tmp_path, JOURNAL, crm='kind = "memory"').read_text()
    (tmp_path / "config.toml").write_text(
        text.replace(', token = "HUBSPOT_TOKEN"', ""), encoding="utf-8"
    )
    ((key, message),) = problems(tmp_path / "config.toml")
    assert key == "connections.main.journal"
    assert "the journal is HubSpot's" in message
