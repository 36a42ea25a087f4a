"""What people call a linked pair, kept on its link: the mapping's naming fields of the
base, so that the operator's views name records without asking either side."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from syncd.mapping import EntityMapping
from syncd.state.rows import Link


def renamed(links: Iterable[Link], mapping: EntityMapping) -> list[Link]:
    """The saved links whose name is not what their base says, with the name it says.

    A name a base cannot give (its naming fields blank, or not agreed yet) is kept.
    """
    found = []
    for link in links:
        name = mapping.display_name(link.base)
        if link.id is not None and name is not None and name != link.name:
            found.append(dataclasses.replace(link, name=name))
    return found
