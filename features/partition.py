"""District parts of a day's features: which feature families a part builds from its own rows, and how
districts are grouped into parts (docs/design/partitions.md).

A part holds whole districts: its cases, their events, the calls logged in its districts and the calls
routed in (quoting one of its case numbers, or from a phone its cases name). From those rows, and the
city's base rates (`features.context.base_rates`), the PART_FAMILIES give every case exactly the values
the whole store gives it; the linked calls among them, since the call linker decides each district's
calls alone (a call's candidates are cases of its district, and a batch is one district's calls of a
day). `features.intake` (FINISHED_FAMILIES) is read by each part (with the cases of other districts
naming its reporters' phones) and finished with the name endings of every part's mentions.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from itertools import pairwise
from types import ModuleType
from typing import TypeVar

import pandas as pd

from features import activity, intake, linked_activity
from features.matrix import FAMILIES

PART_FAMILIES: tuple[ModuleType, ...] = (*FAMILIES, linked_activity, activity)
# Read by each part, finished once every part's aggregates are in (`intake.reading`, then `intake.finish`
# with the name endings of every district's mentions).
FINISHED_FAMILIES: tuple[ModuleType, ...] = (intake,)


T = TypeVar("T")


def consecutive_parts(items: Sequence[T], count: int) -> list[list[T]]:
    """The items cut into at most `count` consecutive parts of nearly equal length, in order (one part,
    empty, for no items)."""
    count = max(1, min(count, len(items)))
    size, extra = divmod(len(items), count)
    bounds = [i * size + min(i, extra) for i in range(count + 1)]
    return [list(items[start:end]) for start, end in pairwise(bounds)]


def district_groups(rows: pd.Series, parts: int) -> list[tuple[str, ...]]:
    """Districts (the index, as stored) grouped into at most `parts` groups balanced by their rows (the
    values): the largest district first goes to the group holding fewest rows so far (ties: the first
    group). Names that differ only by surrounding blanks are one district and stay together. Each group
    lists its stored names sorted; groups are in order of their first district, and none is empty."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    names = pd.Series(rows.index.astype(str), index=rows.index)
    district = names.str.strip()
    totals = rows.groupby(district.to_numpy()).sum()
    order = sorted(totals.items(), key=lambda item: (-int(item[1]), item[0]))
    heap = [(0, group) for group in range(parts)]
    members: list[list[str]] = [[] for _ in range(parts)]
    for key, count in order:
        load, group = heapq.heappop(heap)
        members[group].append(key)
        heapq.heappush(heap, (load + int(count), group))
    groups = [tuple(sorted(names[district.isin(keys)])) for keys in members if keys]
    return sorted(groups)
