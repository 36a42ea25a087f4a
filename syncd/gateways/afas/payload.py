"""UpdateConnector bodies from dotted paths.

The mapping names where each value goes as a path into the UpdateConnector's nested
objects: ``VaId`` is a field of the relation, ``KnOrganisation.Nm`` one of its
organisation, ``KnOrganisation.KnBasicAddressAdr.ZpCd`` one of the organisation's visit
address. :func:`connector_payload` nests such values into the body AFAS expects::

    {"KnSalesRelationOrg": {"Element": {
        "@DbId": "10001",
        "Fields": {"VaId": "NL812345678B01"},
        "Objects": [{"KnOrganisation": {"Element": {
            "Fields": {"MatchOga": "9", "Nm": "Bakkerij De Korenaar B.V."},
            "Objects": [{"KnBasicAddressAdr": {"Element": {"Fields": {...}}}}]}}}]}}}

A blank value (None) is sent as ``""``, which is how AFAS clears a field. Control fields
(``MatchOga``, ``AutoNum``, ``BeginDate``...) come from ``defaults``, per object path, and
only for objects that carry values, except the objects named in ``always``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass
class _Node:
    fields: dict[str, object] = field(default_factory=dict)
    children: dict[str, _Node] = field(default_factory=dict)

    def at(self, names: Iterable[str]) -> _Node:
        node = self
        for name in names:
            node = node.children.setdefault(name, _Node())
        return node

    def element(self, key: tuple[str, str] | None = None) -> dict[str, object]:
        element: dict[str, object] = {}
        if key is not None:
            element[f"@{key[0]}"] = key[1]
        element["Fields"] = dict(self.fields)
        if self.children:
            element["Objects"] = [
                {name: {"Element": child.element()}} for name, child in self.children.items()
            ]
        return element


def connector_payload(
    connector: str,
    values: Mapping[str, object],
    *,
    key: tuple[str, str] | None = None,
    defaults: Mapping[str, Mapping[str, object]] | None = None,
    always: Iterable[str] = (),
) -> dict[str, object]:
    """The body for ``connector``: ``values`` by dotted path, keyed by ``key`` if given.

    ``defaults`` maps an object path (``""`` for the relation itself, ``"KnOrganisation"``,
    ``"KnOrganisation.KnBasicAddressAdr"``) to fields added to that object; a value given
    in ``values`` wins over a default.
    """
    root = _Node()
    for path in always:
        root.at(_split(path))
    for path, value in values.items():
        *objects, name = path.split(".")
        root.at(objects).fields[name] = "" if value is None else value
    for path, extra in (defaults or {}).items():
        names = _split(path)
        if not _exists(root, names):
            continue
        node = root.at(names)
        node.fields = {**extra, **node.fields}
    return {connector: {"Element": root.element(key)}}


def _split(path: str) -> list[str]:
    return [p for p in path.split(".") if p]


def _exists(root: _Node, names: list[str]) -> bool:
    node = root
    for name in names:
        if name not in node.children:
            return False
        node = node.children[name]
    return True
