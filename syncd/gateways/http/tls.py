"""TLS for the gateways: certificates are always verified; a CA bundle can be added.

There is deliberately no option to switch verification off: a private CA (a company
proxy, a test environment) is trusted by adding its bundle, never by trusting anything.
"""

from __future__ import annotations

import functools
import os
import ssl

import aiohttp

from syncd.errors import ConfigError, Problem


def checked_ca_bundle(path: str | None) -> str | None:
    """The ``ca_bundle`` gateway option: a readable PEM file (or none), or ConfigError."""
    if path is None:
        return None
    try:
        tls_context(path)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(
            [
                Problem(
                    "config",
                    "ca_bundle",
                    f"{path!r} cannot be read as PEM "
                    f"certificates ({error}); point it at a CA bundle file",
                )
            ]
        ) from None
    return path


def tls_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """The system's trusted CAs, plus those in ``ca_bundle`` (a PEM file) if given.

    One context per bundle (and its version on disk) for the whole process: each holds
    its own copy of every trusted CA, about a megabyte, and every connection's sessions
    would otherwise load one (docs/performance.md, "Many lanes")."""
    changed = os.stat(ca_bundle).st_mtime_ns if ca_bundle else None
    return _shared_context(ca_bundle, changed)


@functools.cache
def _shared_context(ca_bundle: str | None, changed: int | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


def tls_connector(ca_bundle: str | None = None) -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(ssl=tls_context(ca_bundle))
