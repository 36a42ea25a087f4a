"""Certificates are always verified; a CA bundle can be added, never verification removed."""

from __future__ import annotations

import os
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from syncd.errors import ConfigError, GatewayError
from syncd.gateways.afas.client import Limits
from syncd.gateways.afas.gateway import build_afas_gateway
from syncd.gateways.afas.options import AfasOptions
from syncd.gateways.http.tls import tls_context
from syncd.gateways.options import GatewaySettings, Secret
from syncd.mapping import load_mappings
from syncd.records import Side
from tests.gateways.afas.helpers import client, simulator

MAPPINGS = load_mappings(Path(__file__).resolve().parents[3] / "mappings", ["customer"])


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: trusted by nobody unless added."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
async def https_url(certificate: tuple[Path, Path]) -> AsyncIterator[str]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    runner = web.AppRunner(simulator().app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}/ProfitRestServices"
    finally:
        await runner.cleanup()


async def test_an_unknown_certificate_is_refused(https_url: str) -> None:
    afas = client(https_url)
    try:
        with pytest.raises(GatewayError):
            await afas.get("metainfo")
    finally:
        await afas.aclose()


async def test_an_added_ca_bundle_is_trusted(
    https_url: str, certificate: tuple[Path, Path]
) -> None:
    afas = client(https_url, limits=Limits(ca_bundle=str(certificate[0])))
    try:
        body = await afas.get("metainfo")
    finally:
        await afas.aclose()
    assert "getConnectors" in body


def test_an_unreadable_ca_bundle_is_a_config_error(tmp_path: Path) -> None:
    options: dict[str, Any] = {
        "base_url": "https://127.0.0.1:1/ProfitRestServices",
        "token": Secret("AFAS_TOKEN", "x"),
        "ca_bundle": str(tmp_path / "missing.pem"),
    }
    afas = GatewaySettings("afas", AfasOptions.model_construct(kind="afas", **options))
    with pytest.raises(ConfigError, match="ca_bundle"):
        build_afas_gateway(afas, Side.AFAS, MAPPINGS)


def test_connections_share_one_context_per_bundle_until_the_bundle_changes(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    # Each context holds a copy of every trusted CA (about a megabyte): one per
    # connection's session made a hundred connections cost a hundred copies.
    assert tls_context() is tls_context()
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(certificate[0].read_bytes())
    first = tls_context(str(bundle))
    assert first is tls_context(str(bundle))
    assert first is not tls_context()
    bundle.write_bytes(certificate[0].read_bytes() + b"\n")
    os.utime(bundle, ns=(1, 1))  # a bundle replaced on disk is read again
    assert tls_context(str(bundle)) is not first
