"""``config.toml`` -> :class:`Settings`: frozen, validated settings, secrets from the
environment.

The package: :mod:`.settings` holds what syncd runs with (:class:`Settings` and its
parts); :mod:`.tables` (pydantic models) and :mod:`.crontab` check the file as written;
:mod:`.loading` reads it with the mapping files it names and reports every problem at
once, as one :class:`~syncd.errors.ConfigError`. Each gateway kind brings its own options
model (``syncd/gateways/*/options.py``); :data:`GATEWAY_KINDS` assembles them.
"""

from syncd.config.loading import GATEWAY_KINDS, load_settings
from syncd.config.settings import ConnectionSettings, DaemonSettings, Settings, StatusSettings

__all__ = [
    "GATEWAY_KINDS",
    "ConnectionSettings",
    "DaemonSettings",
    "Settings",
    "StatusSettings",
    "load_settings",
]
