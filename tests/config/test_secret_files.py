"""A gateway's token from a file (``token_file``: a mounted Docker or Kubernetes secret),
read when the config is loaded, and never shown."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syncd.config import load_settings
from syncd.errors import ConfigError
from syncd.gateways.afas.options import AfasOptions
from syncd.gateways.hubspot.options import HubSpotOptions
from tests.config_file import ROOT

AFAS_TOKEN = "<token><version>1</version><data>AFAS-SECRET-1234</data></token>"
HUBSPOT_TOKEN = "pat-eu1-HUBSPOT-SECRET-5678"


def config(directory: Path, afas: str, crm: str) -> Path:
    shutil.copytree(ROOT / "mappings", directory / "mappings", dirs_exist_ok=True)
    path = directory / "config.toml"
    path.write_text(
        f"""[connections.acme]
afas = {{ kind = "afas", environment = 12345, {afas} }}
crm = {{ kind = "hubspot"{crm} }}
""",
        encoding="utf-8",
    )
    return path


def problems(path: Path) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    text = str(caught.value)
    assert "SECRET" not in text
    return {p.key: p.message for p in caught.value.problems}


def test_tokens_are_read_from_files_relative_to_the_config(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "afas").write_text(AFAS_TOKEN + "\n", encoding="utf-8")  # as a mount has it
    (secrets / "hubspot").write_text(HUBSPOT_TOKEN, encoding="utf-8")
    path = config(
        tmp_path, 'token_file = "secrets/afas"', f', token_file = "{secrets / "hubspot"}"'
    )

    settings = load_settings(path, env={})

    (acme,) = settings.connections
    afas, crm = acme.afas.options_as(AfasOptions), acme.crm.options_as(HubSpotOptions)
    assert afas.token_secret is not None
    assert afas.token_secret.value == AFAS_TOKEN
    assert crm.token_value() == HUBSPOT_TOKEN
    shown = f"{settings!r} {acme!r} {afas!r} {crm!r} {afas.token_secret}"
    assert "SECRET" not in shown
    assert str(afas.token_secret) == str(secrets / "afas")  # named by its file only


def test_a_missing_or_empty_token_file_is_refused_naming_the_option(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    path = config(tmp_path, 'token_file = "nowhere"', ', token_file = "empty"')

    found = problems(path)

    assert found["connections.acme.afas.token_file"].startswith(
        "the file it names cannot be read (No such file or directory); point it at the file"
    )
    assert found["connections.acme.crm.token_file"] == (
        "the file it names is empty; put the secret in it"
    )


def test_a_token_pasted_as_a_file_name_is_not_repeated(tmp_path: Path) -> None:
    path = config(tmp_path, 'token_file = "AFAS-SECRET-1234"', ', token = "HUBSPOT_TOKEN"')
    assert "connections.acme.afas.token_file" in problems(path)


def test_token_and_token_file_are_one_or_the_other(tmp_path: Path) -> None:
    (tmp_path / "afas").write_text(AFAS_TOKEN, encoding="utf-8")
    path = config(tmp_path, 'token = "AFAS_TOKEN", token_file = "afas"', "")

    found = problems(path)

    assert found["connections.acme.afas.token_file"] == (
        "give token or token_file, not both; remove one"
    )
    assert found["connections.acme.crm.token"] == (
        "missing; set token to the environment variable holding the token, or token_file "
        "to a file holding it"
    )
