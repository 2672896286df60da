"""District parts of a day's features: which feature families a part builds from its own rows, and how
districts are grouped into parts (docs/design/partitions.md).

A part holds whole districts: its cases, their events, the calls logged in its districts and the calls
routed in (quoting one of its case numbers, or from a phone its cases name). From those rows, and the
city's base rates (`features.context.base_rates`), the PART_FAMILIES give every case exactly the values
the whole store gives it. The other families read across districts in ways not yet cut into aggregates
(the call linker's batch statistics; the reporter's earlier cases and the known name endings of
`features.intake`) and are built once over the whole store.
"""

from __future__ import annotations

import heapq
from types import ModuleType

import pandas as pd

from features import activity
from features.matrix import FAMILIES

PART_FAMILIES: tuple[ModuleType, ...] = (*FAMILIES, activity)


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
