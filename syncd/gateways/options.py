"""What a gateway kind is to the settings: the sides it serves and its option schema.

Each kind owns its options (``gateways/afas/options.py``, ``gateways/hubspot/options.py``)
as a :class:`GatewayOptions` model; the settings assemble the kinds and validate each
``crm = {...}`` / ``afas = {...}`` table with its kind's model. Secrets never live in the
file: an option of type :data:`SecretFromEnv` names an environment variable, one of type
:data:`SecretFromFile` a file (a mounted Docker or Kubernetes secret), read into a
:class:`Secret` that is shown only by that name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Annotated, ClassVar, TypeVar

from pydantic import PlainValidator, ValidationInfo

from syncd.problems.pydantic_errors import Location, said
from syncd.problems.report import describe
from syncd.problems.table import Table
from syncd.records import Side

__all__ = [
    "MEMORY",
    "GatewayKind",
    "GatewayOptions",
    "GatewaySettings",
    "Secret",
    "SecretFromEnv",
    "SecretFromFile",
    "secrets_context",
    "token_problems",
    "variable_name_problem",
]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_Options = TypeVar("_Options", bound="GatewayOptions")


@dataclass(frozen=True)
class Secret:
    """A value read from an environment variable or a file; shown only by its name."""

    variable: str
    value: str = dataclass_field(repr=False, compare=False)
    file: str | None = None  # read from this file instead of a variable

    def __str__(self) -> str:
        return self.file if self.file is not None else f"${self.variable}"


class GatewayOptions(Table):
    """The options of one gateway kind (a kind without options takes none but its name)."""

    kind: str

    retired: ClassVar[Mapping[str, str]] = {}
    """Options no longer used, and why: a config that still has them starts (warned)."""


@dataclass(frozen=True)
class GatewaySettings:
    """One side's gateway: its kind and the kind's validated options (secrets as
    :class:`Secret`)."""

    kind: str
    options: GatewayOptions

    def options_as(self, model: type[_Options]) -> _Options:
        """The options as ``model``, the kind's own: a builder takes its attributes, so
        their defaults live in the model alone."""
        if not isinstance(self.options, model):
            shown = type(self.options).__name__
            raise TypeError(f"{self.kind} options are {shown}, not {model.__name__}")
        return self.options


@dataclass(frozen=True)
class GatewayKind:
    """A kind of gateway: the sides it can serve and the options it takes."""

    name: str
    sides: frozenset[Side]
    options: type[GatewayOptions] = GatewayOptions
    uses_fixture: bool = False


MEMORY = GatewayKind(name="memory", sides=frozenset(Side), uses_fixture=True)
"""In-memory systems, both sides, loaded from the connection's fixture file."""


def secrets_context(
    env: Mapping[str, str], *, required: bool, base: Path | None = None
) -> dict[str, object]:
    """The validation context secrets read: the environment, whether a variable that is
    not set (or a file that cannot be read) is a problem (commands that never talk to a
    side need none), and the directory relative secret files are found in."""
    return {"env": env, "secrets_required": required, "base": base}


def variable_name_problem(value: object) -> str | None:
    """What is wrong with ``value`` as the name of the variable holding a secret (never
    what it says: a token put where a variable name belongs must not end up in a log)."""
    if isinstance(value, str) and _ENV_NAME.fullmatch(value):
        return None
    return (
        f"expected the name of an environment variable, got {_describe_unshown(value)}; "
        "secrets are read from the environment, never from this file"
    )


def _secret_from_env(value: object, info: ValidationInfo) -> Secret:
    problem = variable_name_problem(value)
    if problem is not None:
        raise said(problem)
    assert isinstance(value, str)
    context = info.context or {}
    env: Mapping[str, str] = context.get("env", {})
    secret = env.get(value, "")
    if not secret and context.get("secrets_required", True):
        raise said(f"the environment variable {value} is not set; set it")
    return Secret(value, secret)


def _describe_unshown(value: object) -> str:
    if isinstance(value, str):
        return f"a string of {len(value)} characters (not shown: it may be the secret itself)"
    return describe(value)


SecretFromEnv = Annotated[Secret, PlainValidator(_secret_from_env)]
"""An option naming the environment variable that holds a secret."""


def _secret_from_file(value: object, info: ValidationInfo) -> Secret:
    # The value is never repeated in a problem: a token pasted here must not be logged.
    if not isinstance(value, str) or not value.strip():
        raise said(
            f"expected the path of a file holding the secret, got {_describe_unshown(value)}"
        )
    context = info.context or {}
    base: Path | None = context.get("base")
    path = Path(value) if Path(value).is_absolute() or base is None else base / value
    required = context.get("secrets_required", True)
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        if not required:
            return Secret("", "", file=str(path))
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise said(
            f"the file it names cannot be read ({reason}); point it at the file holding "
            "the secret (relative paths are relative to config.toml) and let syncd read it"
        ) from None
    if not secret and required:
        raise said("the file it names is empty; put the secret in it")
    return Secret("", secret, file=str(path))


SecretFromFile = Annotated[Secret, PlainValidator(_secret_from_file)]
"""An option naming a file that holds a secret, read whenever the config is (re)loaded."""


def token_problems(table: Mapping[str, object], *, required: bool) -> list[tuple[Location, str]]:
    """``token`` (a variable) and ``token_file`` (a file) are two ways to one secret:
    never both, and one of them if the kind needs a token."""
    if "token" in table and "token_file" in table:
        return [(("token_file",), "give token or token_file, not both; remove one")]
    if required and "token" not in table and "token_file" not in table:
        message = (
            "missing; set token to the environment variable holding the token, or "
            "token_file to a file holding it"
        )
        return [(("token",), message)]
    return []
