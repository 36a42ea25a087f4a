"""config.toml: defaults, overrides, the environment, relative paths, all problems at once."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import pytest

from syncd import config as config_module
from syncd.config import GATEWAY_KINDS, load_settings
from syncd.errors import ConfigError
from syncd.gateways.afas.options import AfasOptions
from syncd.gateways.hubspot.options import HubSpotOptions
from syncd.gateways.options import GatewayKind, GatewayOptions, Secret, SecretFromEnv
from syncd.policy import ConflictRule, DeletePolicy, Guards, SyncRules
from syncd.problems.pydantic_errors import Hint
from syncd.records import Side
from syncd.state.url import redact_url

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "config"

_CONNECTION = """
[connections.demo]
crm = { kind = "memory" }
afas = { kind = "memory" }
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory with the shipped mappings, ready for a config.toml."""
    shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
    return tmp_path


def write(directory: Path, text: str, name: str = "config.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={} if env is None else env)
    return [(p.source, p.key, p.message) for p in caught.value.problems]


# --- the shipped example --------------------------------------------------------------


def test_shipped_config_loads() -> None:
    demo = {"SYNCD_DEMO_AFAS_TOKEN": "a", "SYNCD_DEMO_HUBSPOT_TOKEN": "h"}
    settings = load_settings(ROOT / "config.toml", env=demo)
    assert settings.source == ROOT / "config.toml"
    assert settings.data_dir == ROOT / "data"
    assert settings.state_url == f"sqlite:///{ROOT / 'data' / 'syncd.db'}"
    assert settings.rules == SyncRules()
    assert settings.overlap == timedelta(seconds=300)
    assert settings.entities == ("customer", "supplier", "contact")
    assert set(settings.mappings) == {"customer", "supplier", "contact"}
    assert settings.mappings["customer"].source == ROOT / "mappings" / "customer.toml"
    (connection,) = settings.connections
    assert connection.name == "demo"
    assert connection.crm.kind == "hubspot"
    assert connection.side(Side.AFAS).kind == "afas"
    assert connection.crm.options_as(HubSpotOptions).base_url == "http://127.0.0.1:8702"
    assert connection.afas.options_as(AfasOptions).token.value == "a"  # type: ignore[union-attr]
    assert connection.fixture is None


# --- defaults and overrides -----------------------------------------------------------


def test_defaults(project: Path) -> None:
    settings = load_settings(write(project, _CONNECTION), env={})
    assert settings.data_dir == project / "data"
    assert settings.state_url == f"sqlite:///{project / 'data' / 'syncd.db'}"
    assert settings.rules == SyncRules()
    assert settings.rules.guards == Guards()
    assert settings.overlap == timedelta(seconds=300)
    assert settings.entities == ("customer", "supplier", "contact")
    assert settings.connections[0].fixture is None


def test_every_key_overrides_its_default(project: Path) -> None:
    shutil.move(project / "mappings", project / "maps")
    text = """
data_dir = "var"
[state]
url = "postgresql+asyncpg://syncd@db.internal/syncd"
[sync]
entities = ["supplier"]
mappings = "maps"
conflict = "newest_wins"
newest_tie = "crm"
blank_overwrites = true
deletes = "block"
create_in_crm = false
create_in_afas = false
overlap_seconds = 42.5
[sync.guards]
max_delete_share = 0.25
max_blank_share = 1
min_records_for_share = 0
refuse_empty_side = false
"""
    settings = load_settings(write(project, text + _CONNECTION), env={})
    assert settings.data_dir == project / "var"
    assert settings.state_url == "postgresql+asyncpg://syncd@db.internal/syncd"
    assert settings.entities == ("supplier",)
    assert set(settings.mappings) == {"supplier"}
    assert settings.mappings["supplier"].source == project / "maps" / "supplier.toml"
    assert settings.overlap == timedelta(seconds=42.5)
    assert settings.rules == SyncRules(
        conflict=ConflictRule.NEWEST_WINS,
        newest_tie=Side.CRM,
        blank_overwrites=True,
        deletes=DeletePolicy.BLOCK,
        create_in_crm=False,
        create_in_afas=False,
        guards=Guards(
            max_delete_share=0.25,
            max_blank_share=1.0,
            min_records_for_share=0,
            refuse_empty_side=False,
        ),
    )


# --- the environment ------------------------------------------------------------------


def test_state_url_from_the_environment_wins(project: Path) -> None:
    path = write(project, '[state]\nurl = "sqlite:///file.db"\n' + _CONNECTION)
    env = {"SYNCD_STATE_URL": "postgresql://syncd:s3cret@db/syncd"}
    settings = load_settings(path, env=env)
    assert settings.state_url == "postgresql://syncd:s3cret@db/syncd"
    assert "s3cret" not in repr(settings)
    assert "postgresql://syncd:***@db/syncd" in repr(settings)


def test_environment_defaults_to_os_environ(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCD_STATE_URL", "postgresql://syncd@db/from_env")
    settings = load_settings(write(project, _CONNECTION))
    assert settings.state_url == "postgresql://syncd@db/from_env"


def test_a_bad_url_never_shows_its_password(project: Path) -> None:
    path = write(project, '[state]\nurl = "mysql://syncd:hunter2@db/syncd"\n' + _CONNECTION)
    env = {"SYNCD_STATE_URL": "syncd:topsecret@db"}
    found = problems(path, env)
    assert found == [
        (
            "environment",
            "SYNCD_STATE_URL",
            "'syncd:***@db' is not a database URL; use sqlite:///path/to/syncd.db or "
            "postgresql://user@host/database",
        )
    ]
    found = problems(path)
    assert found == [
        (
            str(path),
            "state.url",
            "'mysql://syncd:***@db/syncd' uses 'mysql'; syncd keeps its state in sqlite "
            "or postgresql",
        )
    ]
    assert "hunter2" not in str(found)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob:pw@db/x", "postgresql://bob:***@db/x"),
        ("postgresql://bob:p@ss/w@db/x", "postgresql://bob:***@db/x"),
        ("bob:pw@db", "bob:***@db"),
        ("postgresql://bob@db/x", "postgresql://bob@db/x"),
        ("sqlite:///data/a@b.db", "sqlite:///data/a@b.db"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


# --- relative paths -------------------------------------------------------------------


def test_companies_come_before_the_contacts_that_follow_them(project: Path) -> None:
    text = "[sync]\nentities = ['contact', 'supplier', 'customer']\n" + _CONNECTION
    settings = load_settings(write(project, text), env={})
    assert settings.entities == ("supplier", "customer", "contact")


def test_paths_are_relative_to_the_config_file(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    etc = project / "etc"
    etc.mkdir()
    text = """
data_dir = "../var/lib"
[state]
url = "sqlite:///state/syncd.db"
[sync]
mappings = "../mappings"
[connections.demo]
crm = { kind = "memory" }
afas = { kind = "memory" }
fixture = "fixtures/systems.json"
"""
    settings = load_settings(write(etc, text), env={})
    assert settings.data_dir == project / "var" / "lib"
    assert settings.state_url == f"sqlite:///{etc / 'state' / 'syncd.db'}"
    assert settings.mappings["customer"].source == project / "mappings" / "customer.toml"
    assert settings.connections[0].fixture == etc / "fixtures" / "systems.json"


def test_absolute_paths_stay(project: Path) -> None:
    text = f'data_dir = "{project / "abs"}"\n[state]\nurl = "sqlite:////srv/syncd.db"\n'
    settings = load_settings(write(project, text + _CONNECTION), env={})
    assert settings.data_dir == project / "abs"
    assert settings.state_url == "sqlite:////srv/syncd.db"


# --- all problems at once -------------------------------------------------------------


def test_every_problem_of_config_and_mappings_at_once() -> None:
    path = DATA / "bad_config.toml"
    mapping = DATA / "mappings" / "customer.toml"
    src = str(path)
    expected = [
        (
            src,
            "colour",
            "unknown key; allowed keys: data_dir, state, sync, daemon, status, webhooks, "
            "connections",
        ),
        (src, "data_dir", "expected a path (a non-empty string), got an integer (5)"),
        (
            src,
            "state.url",
            "'mysql://syncd:***@db.internal/syncd' uses 'mysql'; syncd keeps its state in "
            "sqlite or postgresql",
        ),
        (
            src,
            "sync.entities",
            "'customers' is not an entity; use any of: customer, supplier, contact",
        ),
        (
            src,
            "sync.conflict",
            "'newest' is not allowed; use one of: crm_wins, afas_wins, newest_wins, manual",
        ),
        (src, "sync.newest_tie", "'both' is not allowed; use one of: crm, afas"),
        (src, "sync.blank_overwrites", "expected true or false, got a string ('no')"),
        (src, "sync.deletes", "'delete' is not allowed; use one of: ignore, block"),
        (src, "sync.overlap_seconds", "-5 is out of range; use a number of at least 0"),
        (
            src,
            "sync.guards.refuse_empty",
            "unknown key; did you mean 'refuse_empty_side'? allowed keys: max_delete_share, "
            "max_blank_share, min_records_for_share, refuse_empty_side",
        ),
        (src, "sync.guards.max_delete_share", "1.5 is out of range; use a number from 0 to 1"),
        (
            src,
            "sync.guards.min_records_for_share",
            "expected a whole number, got a float (2.5)",
        ),
        (
            src,
            "connections.demo.fixtures",
            "unknown key; did you mean 'fixture'? "
            "allowed keys: crm, afas, fixture, webhooks, journal",
        ),
        (
            src,
            "connections.demo.crm.kind",
            "'salesforce' is not a crm gateway kind; allowed kinds: memory, hubspot",
        ),
        (src, "connections.demo.afas.speed", "unknown key; allowed keys: kind"),
        (
            src,
            "connections.empty.crm",
            'missing; add crm = { kind = "..." } (kinds: memory, hubspot)',
        ),
        (
            src,
            "connections.empty.afas",
            'missing; add afas = { kind = "..." } (kinds: memory, afas)',
        ),
        (
            str(mapping),
            "fields[0].direction",
            "'to_erp' is not a direction; use one of: both, to_afas, to_crm, on_create",
        ),
    ]
    assert problems(path) == expected
    assert "hunter2" not in str(problems(path))


def test_the_error_message_lists_every_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(DATA / "bad_config.toml", env={})
    text = str(caught.value)
    assert text.startswith("18 problem(s) in the configuration:")
    assert "bad_config.toml: connections.demo.crm.kind: 'salesforce' is not" in text
    assert "customer.toml: fields[0].direction: 'to_erp'" in text


def test_missing_config_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    assert problems(path) == [(str(path), "", "file not found; check the path or create the file")]


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[sync]\nconflict = manual\n")
    assert problems(path) == [
        (str(path), "line 2", "invalid TOML: Invalid value (column 12); fix the syntax there")
    ]


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("", "connections", "missing; add a [connections.<name>] table"),
        ("connections = 1", "connections", "expected tables [connections.<name>]"),
        ("[connections]", "connections", "no connections; add a [connections.<name>] table"),
        ("[connections.'a b']", "connections.a b", "use letters, digits, _ and - for a"),
        ("[connections]\nx = 1", "connections.x", "expected a table, got an integer (1)"),
        (
            "[connections.x]\ncrm = 'memory'\nafas = { kind = 'memory' }",
            "connections.x.crm",
            "expected a table like { kind = \"memory\" }, got a string ('memory')",
        ),
        (
            "[connections.x]\ncrm = {}\nafas = { kind = 'memory' }",
            "connections.x.crm.kind",
            "expected a gateway kind (memory, hubspot), got nothing",
        ),
        (
            "[connections.x]\ncrm = { kind = 'memory' }\nafas = { kind = 'memory' }\nfixture = 3",
            "connections.x.fixture",
            "expected a path (a non-empty string), got an integer (3)",
        ),
        ("sync = 1\n" + _CONNECTION, "sync", "expected a table, got an integer (1)"),
        ("[state]\nurl = 5\n" + _CONNECTION, "state.url", "expected a database URL (a string)"),
        ("[state]\nuri = 'x'\n" + _CONNECTION, "state.uri", "did you mean 'url'?"),
        ("[sync]\nentities = []\n" + _CONNECTION, "sync.entities", "empty; list at least one"),
        ("[sync]\nentities = 'customer'\n" + _CONNECTION, "sync.entities", "expected an array"),
        (
            "[sync]\nentities = ['customer', 'customer']\n" + _CONNECTION,
            "sync.entities",
            "'customer' is listed twice; list it once",
        ),
        (
            "[sync]\nentities = ['contact']\n" + _CONNECTION,
            "sync.entities",
            "contacts follow their company: list customer or supplier too",
        ),
        (
            "[sync]\noverlap_seconds = true\n" + _CONNECTION,
            "sync.overlap_seconds",
            "expected a number, got a boolean (true)",
        ),
        (
            "[sync]\nmappings = 'nowhere'\n" + _CONNECTION,
            "sync.mappings",
            "is not a directory; point it at the directory holding <entity>.toml",
        ),
    ],
)
def test_config_shape_problems(project: Path, text: str, key: str, message: str) -> None:
    found = {k: m for _, k, m in problems(write(project, text))}
    assert key in found, found
    assert message in found[key]


# --- gateway kinds --------------------------------------------------------------------


class RestOptions(GatewayOptions):
    """A pretend gateway kind's options: one of every type."""

    environment: Annotated[str, Hint(missing="this option is required (e.g. 12345)")]
    token_env: SecretFromEnv
    page_size: int = 100
    timeout: float | None = None
    verify: bool = True


@pytest.fixture
def rest_kind() -> Iterator[None]:
    """A pretend gateway kind with one option of every type, for the duration of a test."""
    GATEWAY_KINDS["rest"] = GatewayKind(
        name="rest", sides=frozenset({Side.AFAS}), options=RestOptions
    )
    yield
    del GATEWAY_KINDS["rest"]


def test_a_kind_reads_its_options_and_secrets_from_the_environment(
    project: Path, rest_kind: None
) -> None:
    text = """
[connections.live]
crm = { kind = "memory" }
afas = { kind = "rest", environment = "12345", token_env = "AFAS_TOKEN", timeout = 2.5 }
"""
    settings = load_settings(write(project, text), env={"AFAS_TOKEN": "t0ken"})
    afas = settings.connections[0].afas
    assert afas.kind == "rest"
    options = afas.options_as(RestOptions)
    assert options.environment == "12345"
    assert options.page_size == 100
    assert options.timeout == 2.5
    assert options.verify is True
    token = options.token_env
    assert isinstance(token, Secret)
    assert token.value == "t0ken"
    assert "t0ken" not in repr(afas)
    assert str(token) == "$AFAS_TOKEN"


def test_a_kind_reports_its_option_problems(project: Path, rest_kind: None) -> None:
    text = """
[connections.live]
crm = { kind = "rest" }
afas = { kind = "rest", token_env = "AFAS_TOKEN", page_size = "ten", verify = 1, colour = 2 }
fixture = "systems.json"
"""
    path = write(project, text)
    assert [(k, m) for _, k, m in problems(path)] == [
        (
            "connections.live.crm.kind",
            "'rest' is not a crm gateway kind; allowed kinds: memory, hubspot",
        ),
        (
            "connections.live.afas.colour",
            "unknown key; allowed keys: kind, environment, token_env, page_size, timeout, verify",
        ),
        (
            "connections.live.afas.environment",
            "missing; this option is required (e.g. 12345)",
        ),
        (
            "connections.live.afas.token_env",
            "the environment variable AFAS_TOKEN is not set; set it",
        ),
        ("connections.live.afas.page_size", "expected a whole number, got a string ('ten')"),
        ("connections.live.afas.verify", "expected true or false, got an integer (1)"),
    ]


def test_a_secret_is_never_written_in_the_file(project: Path, rest_kind: None) -> None:
    text = """
[connections.live]
crm = { kind = "memory" }
afas = { kind = "rest", environment = "1", token_env = "abc def 123" }
fixture = "systems.json"
"""
    found = {k: m for _, k, m in problems(write(project, text))}
    assert found["connections.live.afas.token_env"] == (
        "expected the name of an environment variable, got a string of 11 characters (not "
        "shown: it may be the secret itself); secrets are read from the environment, never "
        "from this file"
    )


def test_fixture_needs_a_memory_gateway(project: Path, rest_kind: None) -> None:
    GATEWAY_KINDS["rest"] = GatewayKind("rest", frozenset(Side))
    text = """
[connections.live]
crm = { kind = "rest" }
afas = { kind = "rest" }
fixture = "systems.json"
"""
    found = {k: m for _, k, m in problems(write(project, text))}
    assert found == {
        "connections.live.fixture": (
            'only memory gateways read a fixture; remove it or use kind = "memory"'
        )
    }


def test_module_exports() -> None:
    for name in config_module.__all__:
        assert hasattr(config_module, name)


def test_the_data_directory_can_come_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        Path("config.toml"), env={"SYNCD_DATA_DIR": str(tmp_path)}, secrets=False
    )
    assert settings.data_dir == tmp_path
    assert settings.state_url.endswith(f"{tmp_path}/syncd.db")


def test_the_shipped_config_names_its_secrets_and_read_only_commands_need_none() -> None:
    with pytest.raises(ConfigError, match="SYNCD_DEMO_AFAS_TOKEN is not set"):
        load_settings(ROOT / "config.toml", env={})
    settings = load_settings(ROOT / "config.toml", env={}, secrets=False)
    assert [c.name for c in settings.connections] == ["demo"]


def test_a_status_token_written_in_the_file_is_never_repeated(project: Path) -> None:
    path = write(project, '[status]\ntoken_env = "pat-na1-0123 4567"\n' + _CONNECTION)
    found = {k: m for _, k, m in problems(path)}
    assert "not shown: it may be the secret itself" in found["status.token_env"]
    assert "0123 4567" not in str(found)


def test_operators_sign_in_with_tokens_of_their_own(project: Path) -> None:
    table = '[status]\ntoken_env = "PAGE"\n[status.operators]\n"Anouk de Vries" = "ANOUK"\n'
    env = {"PAGE": "page-token", "ANOUK": "anouks-token"}
    settings = load_settings(write(project, table + _CONNECTION), env=env)
    assert {n: s.value for n, s in settings.status.operators.items()} == {
        "Anouk de Vries": "anouks-token"
    }
    unset = {k: m for _, k, m in problems(project / "config.toml", {"PAGE": "page-token"})}
    assert "ANOUK" in unset["status.operators.Anouk de Vries"]
    shared = {k: m for _, k, m in problems(project / "config.toml", {**env, "ANOUK": "page-token"})}
    assert "a token of their own" in shared["status.operators"]
    alone = write(project, '[status.operators]\nAnouk = "ANOUK"\n' + _CONNECTION)
    assert (
        "set status.token_env too" in {k: m for _, k, m in problems(alone, env)}["status.operators"]
    )
