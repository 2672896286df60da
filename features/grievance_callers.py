"""The callers of the things merged by `features.grievance_aliases`, as they are merged: the merged
things (`Forest`, disjoint sets of key positions), the distinct callers of each key per window and
hotline category (`window_callers`), and what they say of a form and a thing (`Callers`: how many
callers name a thing in a form's windows and categories, whether a form lives only in a thing's
windows, which of several things a short form most likely is).

A short form inside several things that cannot be one is the thing named by at least DOMINANT_CALLERS
callers and DOMINANCE times as many as the others together (a caller who writes "鑫源公司" when
twenty-five name 鑫源建筑工程公司 and five 鑫源装饰工程公司 most likely means the first); else it stays
apart: merging two things is worse for an analyst than showing one twice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.grievance_homophones import Evidence

DOMINANT_CALLERS = 5
DOMINANCE = 3.0


class Forest:
    """Disjoint sets of key positions (union-find); a set is named by its smallest position."""

    def __init__(self, size: int) -> None:
        self.parent = np.arange(size)

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return int(x)

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        self.parent[max(ra, rb)] = min(ra, rb)

    def components(self) -> np.ndarray:
        return np.array([self.find(x) for x in range(len(self.parent))], dtype=np.int64)


def window_callers(mentions: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame | None:
    """The distinct (key position, window, category, caller) of the mentions with a caller and a window
    (`block`; category '' when the mentions have none), None without a block column."""
    if "block" not in mentions:
        return None
    known = mentions[mentions["caller"].notna() & mentions["block"].notna()]
    position = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[["district", "key"]]))
    at = position.reindex(pd.MultiIndex.from_frame(known[["district", "key"]])).to_numpy()
    category = known["category"].fillna("") if "category" in known else pd.Series("", index=known.index)
    frame = pd.DataFrame(
        {
            "at": at,
            "block": known["block"].to_numpy(),
            "category": category.astype(object).to_numpy(),
            "caller": known["caller"].to_numpy(),
        }
    )
    return frame.drop_duplicates(ignore_index=True)


class Callers:
    """The callers of the merged things of a district, as they are merged (each key's distinct callers
    summed over the keys of the thing), over all windows or over those a given key was named in (and,
    when the hotline categories are known, in the categories its calls were filed under)."""

    def __init__(self, keys: pd.DataFrame, forest: Forest, windows: pd.DataFrame | None) -> None:
        self.forest, self.callers = forest, keys["callers"].to_numpy()
        self.district = {d: np.asarray(at) for d, at in keys.groupby("district").indices.items()}
        self.of = keys["district"].tolist()
        self.windows: dict[int, dict[int, int]] = {}
        self.filed: dict[int, dict[tuple[int, str], int]] = {}
        if windows is not None:
            for (at, block), n in windows.groupby(["at", "block"])["caller"].nunique().items():
                self.windows.setdefault(int(at), {})[int(block)] = int(n)
            for (at, block, category), n in (
                windows.groupby(["at", "block", "category"])["caller"].nunique().items()
            ):
                self.filed.setdefault(int(at), {})[(int(block), str(category))] = int(n)
        self.categories = any(category for seen in self.filed.values() for _, category in seen)

    def members(self, root: int) -> list[int]:
        """The key positions of the merged thing named by its root position."""
        return [i for i in self.district[self.of[root]].tolist() if self.forest.find(i) == root]

    def of_thing(self, root: int, blocks: set[int] | None = None) -> int:
        """The callers of the merged thing named by its root position (in the windows `blocks` only)."""
        if blocks is None:
            return int(sum(int(self.callers[i]) for i in self.members(root)))
        return sum(n for i in self.members(root) for b, n in self.windows.get(i, {}).items() if b in blocks)

    def filed_as(self, root: int, key: int) -> dict[tuple[int, str], int]:
        """Per (window, category) the key at position `key` was named in and filed under (category ''
        when unknown): the callers of the merged thing named by its root position."""
        named = dict.fromkeys(self.filed.get(key, {}), 0)
        for i in self.members(root):
            for at, n in self.filed.get(i, {}).items():
                if at in named:
                    named[at] += n
        return named

    def lives_in(self, key: int, root: int) -> bool:
        """The key at position `key` is named only in windows the merged thing named by its root position
        is named in, or the one just before its first (a grievance's first caller): no life of its own."""
        seen = {b for i in self.members(root) for b in self.windows.get(i, {})}
        onset = {max(seen) + 1} if seen else set()
        return set(self.windows.get(key, {})) <= seen | onset

    def complained_of(self, root: int, key: int) -> int:
        """The callers of the merged thing named by its root position in the windows the key at position
        `key` was named in where the thing was also filed under one of the categories the key's calls
        were filed under there (category '' when unknown), counted under every category: one grievance
        is filed under several categories (欠薪 and 劳动保障), and its callers complain of one thing
        whichever was chosen; a window the thing is named in only under other categories counts none."""
        filed_in: dict[int, set[str]] = {}
        for block, category in self.filed.get(key, {}):
            filed_in.setdefault(block, set()).add(category)
        members = self.members(root)
        return sum(
            self.windows.get(i, {}).get(block, 0)
            for block, categories in filed_in.items()
            if any((block, category) in self.filed.get(i, {}) for i in members for category in categories)
            for i in members
        )

    def filed_alike(self, root: int, key: int) -> int:
        """The callers of the merged thing named by its root position in the windows the key at position
        `key` was named in: `complained_of` when the key has no life of its own (it lives only in the
        thing's windows, `lives_in`, and is named there by fewer callers than the thing), else only those
        of its calls filed under the key's categories (a form named in weeks of its own or by as many,
        an estate's 华联小区 named most weeks, may be a thing of its own: only what it shares counts)."""
        if self.lives_in(key, root):
            every = self.complained_of(root, key)
            if every > self.complained_of(self.forest.find(key), key):
                return every
        return sum(self.filed_as(root, key).values())

    def dominant(self, things: dict[int, int], short: int) -> dict[int, int]:
        """Of several things (root: member) a short form may be, the one named by at least
        DOMINANT_CALLERS callers and DOMINANCE times as many as the others together (empty when none
        is), in the windows the short form was named in when they are known (a short form is most
        likely the thing most named at the same time), else over all. When the categories of the calls
        are known, only the callers of the windows in which the thing was also filed under the short
        form's categories count, under all its categories there (`complained_of`: its callers complain of
        what the short form's callers complain of, whichever of its categories each call was filed
        under), and the short form's own callers count towards DOMINANT_CALLERS."""
        if short in self.filed:
            named = {root: self.filed_alike(root, short) for root in things}
        else:
            named = {root: self.of_thing(root) for root in things}
        own = self.complained_of(self.forest.find(short), short) if self.categories else 0
        most = max(named, key=lambda r: (named[r], -r))
        others = sum(named.values()) - named[most]
        if named[most] > 0 and named[most] + own >= DOMINANT_CALLERS and named[most] >= DOMINANCE * others:
            return {most: things[most]}
        return {}

    def evidence(self, alias: int, thing: int, shared: int) -> Evidence:
        """What the calls say of the key at position `alias` as the merged thing of the key at `thing`
        miswritten (`grievance_homophones.Evidence`): the callers of both merged things, their windows,
        the thing's callers in the alias's windows under its categories, and `shared` callers."""
        root, own = self.forest.find(thing), self.forest.find(alias)
        return Evidence(
            alias_callers=self.of_thing(own),
            thing_callers=self.of_thing(root),
            alias_windows=frozenset(b for i in self.members(own) for b in self.windows.get(i, {})),
            thing_windows=frozenset(b for i in self.members(root) for b in self.windows.get(i, {})),
            alias_callers_then=sum(self.filed_as(own, alias).values()),
            thing_callers_then=sum(self.filed_as(root, alias).values()),
            shared_callers=shared,
        )

    def variant_of(self, alias: int, thing: int, filed: bool = True) -> bool:
        """The key at position `alias` is another name of the merged thing of the key at `thing`: that
        thing was named in each window the alias was named in and, in those windows under the categories
        the alias's calls were filed under (when the categories are known and `filed`; under any without
        `filed`), by at least DOMINANT_CALLERS callers in all and by more than the alias's own thing: the
        alias has no life of its own. The window just before the thing's first counts as one of its
        windows (a grievance's first caller may write the other name a week before anyone writes the
        thing's). False when the windows are unknown."""
        if alias not in self.filed:
            return False
        if filed:
            total = sum(self.filed_as(self.forest.find(thing), alias).values())
            own = sum(self.filed_as(self.forest.find(alias), alias).values())
        else:
            blocks = set(self.windows.get(alias, {}))
            total = self.of_thing(self.forest.find(thing), blocks)
            own = self.of_thing(self.forest.find(alias), blocks)
        return self.lives_in(alias, self.forest.find(thing)) and total >= DOMINANT_CALLERS and total > own
