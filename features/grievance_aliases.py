"""One thing's keys merged: within a district, the keys of the emerging grievances that name one thing
written differently share one root key (the keys: `features.grievance_keys`).

- `alias_roots`: keys are first compared without the administrative places they start with, learned from
  the data (`place_names`: the districts of the district column and the provinces and cities keys start
  with, also without their unit word: "临川世纪高速" is "世纪高速" where 临川县 is a district). Within a
  district and a kind, keys that are one thing written differently are merged: the same core
  ("宏达服装厂"/"宏达服装公司"), one key ending another ("滨河苑"/"伊景园滨河苑"), one core starting or
  ending another of at least three characters ("伊景园小区"/"伊景园滨河苑") or written with characters
  left out, the first two kept ("翠湖天地苑"/"翠湖国际新天地苑"), or, for organisations, schools and
  hospitals, the same trade name with fewer (or abbreviated) words of the trade ("鑫源公司",
  "鑫源建工公司"/"鑫源建筑工程公司"); one character written differently in a distinctive name (the trade
  name of an organisation, the core of a place) of at least three characters, two apart from each other
  in one of six or more, the rest the same ("伊景园宾河苑"/"伊景园滨河苑", but not
  "东方明珠国际花园"/"星河明珠国际花园"); or the same callers naming both, when they share rare
  character pairs.
  Suffixes must be the same or one must stand for any of the kind (小区 for an estate, 公司 or 厂 for a
  company, any platform's suffix for another ...: STANDS_FOR), so 红星小学 and 红星中学, 长青苑 and
  长青花园 stay apart; two estates that share only a generic ending ("阳光花园", "明月花园") share no
  character pair of their cores and stay apart. A key written with a suffix that stands for others
  ("红星学校") is contained in those of the same core.
  **A shorter form inside several things that cannot be one** ("鑫源公司" with 鑫源建筑工程公司 and
  鑫源装饰工程公司 in one district; "长青小区" with 长青苑 and 长青花园) is merged with the one the same
  callers name; else with the one named by at least DOMINANT_CALLERS callers and DOMINANCE times as many
  as the others together (a caller who writes the short form most likely means the thing most callers
  talk about: three chances in four or more); else it stays apart, shown on its own, because merging two
  different things is worse for an analyst than showing one thing twice. The short forms that are clear
  are merged before those that are not. When the windows of the calls are known (a `block` column),
  the callers counted are those of the windows the short form was named in (the thing most named at the
  same time). Then a project named by a place's name only ("绿洲征迁项目") is that place ("绿洲高速", an
  estate, village or road) when the place surges in the windows the project is named in: named there by
  CO_TIMING times its usual callers a window or more (a shared name alone is no evidence: a district's
  "锦绣片区改造项目" and "锦绣花园" are two things most of the time).
  **Another name of a thing**: keys with the same distinctive name (an organisation's trade name, a
  place's core) but other trade words or another suffix ("福临装修公司"/"福临装饰工程公司",
  "远大小区"/"远大苑") are one thing only when the data says so: the other name is named only in the
  windows the thing is named in (or the week before its first), under the hotline categories the
  thing's calls are filed under there, by fewer callers than the thing (at least DOMINANT_CALLERS of
  them): it has no life of its own; and its trade words say no other trade (`trade_families`: 装修 is
  装饰 written another way, 物业 another trade). A name shared by more than RARE_PAIR_KEYS keys of a
  district and kind, or generic, never is. So too a trade name of two characters with one written
  differently and the same trade words ("华连食品公司"/"华联食品公司": too short to tell by spelling),
  under any category (its spelling is evidence).
  **A miswritten short form** ("新源公司" of "鑫源建筑工程公司": a distinctive name of the same length with
  one character read alike, `features.grievance_homophones`) is the thing when the data says so: it
  lives only in the thing's windows and is much smaller there, or a caller of it named the thing too;
  never two forms each named by DOMINANT_CALLERS callers or more (docs/design/grievance-homophones.md).
  When the root is chosen it is a form of the thing (below), like a shorter or other name.
  When the categories of the calls are known (a `category` column), a short form inside several things
  also counts only a thing's callers of the windows in which that thing was filed under one of the short
  form's categories too, its own callers towards DOMINANT_CALLERS; when the short form has no life of
  its own (named only in the thing's windows, by fewer callers than the thing there), all the thing's
  callers of those windows count, whichever category each call was filed under (one grievance is filed
  under several, 欠薪 and 劳动保障), else only its calls filed under the short form's categories (a
  form named in weeks of its own, or by as many, may be a thing of its own).
  A merged key's root (the cluster's identity, kept from day to day whichever form is written most that
  week) is the member whose suffix names its kind precisely (顺发花园 before 顺发小区), then whose suffix
  is listed first (`SUFFIX_KINDS`: 公司 before 厂), then that is not a shorter or other name of a member
  named by at least a DOMINANCE-th as many callers, a mention of an unknown caller counted as one (of
  two other names, the one with fewer trade words, else the less named, is the other name; of two
  spellings of a two-character trade name, the less named is the miswritten one, so merging it never
  changes the thing's identity, and so is a longer name written by a single caller when more wrote the
  other ("伊景园宾河苑" of "伊景园滨河苑", merged by its spelling the day both are named);
  盛世建筑公司 is never the root of 盛世建筑工程公司, whichever was named first; a spelling of such a
  form is a form of the thing too (佳禾装修公司, as many writers as 嘉禾装修公司, of 嘉禾装饰工程公司);
  the two callers who wrote 鑫源职业学院 before a call without a number named 鑫源职业技术学院 do not
  make it the college's identity), then,
  when the times of the mentions are known (a `first` column), the one named first (which form most
  callers write changes from day to day while few have called: the first one stays while it is in the
  lookback), then named by most callers, named most often, the longest and the first in order.

Pure functions on Series and DataFrames; loops run over distinct keys, never over records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from features.grievance_callers import DOMINANCE, DOMINANT_CALLERS, Callers, Forest, window_callers
from features.grievance_homophones import homophone_pairs, is_miswritten
from features.grievance_keys import (
    TRADE_NAMED_KINDS,
    is_generic_name,
    place_names,
    trade_families,
    trade_name,
    without_places,
)
from features.named_things import GENERIC_WORDS, SUFFIX_KINDS, split_suffix

RARE_PAIR_KEYS = 30  # a character pair of cores found in more keys of a district and kind is not rare
_SUFFIX_RANK = {suffix: rank for rank, suffix in enumerate(SUFFIX_KINDS)}  # the root's suffix: first listed
PLACE_KINDS = ("estate", "village", "road")  # kinds of places a project may be named after
# A place named by this many times its usual callers a window (the median over the other windows, plus
# one) in the windows a project of its name is named in: it surges then.
CO_TIMING = 4.0
CO_TIMING_CALLERS = 1  # ... named by at least this many callers (the place's surge is the evidence)
# Per kind, the suffixes that may stand for any other of the kind (an estate is a 小区 too, a factory a
# 公司, a platform its APP): keys with other different suffixes (红星小学, 红星中学) are different things.
STANDS_FOR: dict[str, frozenset[str]] = {
    "estate": frozenset({"小区"}),
    "company": frozenset({"公司", "厂"}),
    "project": frozenset({"项目", "工程", "工地", "改造", "拆迁"}),
    "school": frozenset({"学校"}),
    "platform": frozenset(s for s, kind in SUFFIX_KINDS.items() if kind == "platform"),
    "road": frozenset({"路口"}),
}


def _grams(core: str) -> list[str]:
    """The character pairs of a core (a two-character core is its own pair)."""
    return [core[i : i + 2] for i in range(max(len(core) - 1, 1))]


def _described(mentions: pd.DataFrame) -> pd.DataFrame:
    """Per distinct (district, key): kind, mentions, distinct callers, mentions of unknown callers,
    first mention (NaT when the mentions have no `first` time), core, suffix, distinctive name and
    trade words (the trade name and its words for organisations, schools and hospitals; the core and
    nothing for places), and block (district and kind)."""
    grouped = mentions.groupby(["district", "key"], sort=True)
    keys = grouped.agg(kind=("kind", "first"), mentions=("kind", "size"), callers=("caller", "nunique"))
    keys["unknown_callers"] = mentions["caller"].isna().groupby([mentions["district"], mentions["key"]]).sum()
    keys["first"] = grouped["first"].min() if "first" in mentions else pd.NaT
    keys = keys.reset_index()
    split = [split_suffix(k) for k in keys["key"].tolist()]
    keys["core"] = pd.Series([c for c, _ in split], dtype=object)
    keys["suffix"] = pd.Series([x for _, x in split], dtype=object)
    named = [
        trade_name(core) if kind in TRADE_NAMED_KINDS else (core, "")
        for core, kind in zip(keys["core"].tolist(), keys["kind"].tolist(), strict=True)
    ]
    keys["name"] = pd.Series([n for n, _ in named], dtype=object)
    keys["trade"] = pd.Series([t for _, t in named], dtype=object)
    keys["block"] = pd.factorize(pd.MultiIndex.from_frame(keys[["district", "kind"]]))[0]
    return keys


def _interchangeable(keys: pd.DataFrame, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair of key positions (same kind): their suffixes are the same or one stands for the other."""
    suffix, kind = keys["suffix"].tolist(), keys["kind"].tolist()
    return np.array(
        [
            suffix[x] == suffix[y] or bool({suffix[x], suffix[y]} & STANDS_FOR.get(kind[x], frozenset()))
            for x, y in zip(a.tolist(), b.tolist(), strict=True)
        ],
        dtype=bool,
    )


def _candidate_pairs(keys: pd.DataFrame) -> pd.DataFrame:
    """Pairs (id_a < id_b, positions in keys) of the same district and kind sharing a rare character
    pair of their cores: how many pairs they share (`common`), the share of their pairs' weight (idf)
    they have in common (`similarity`), and whether their suffixes may stand for each other
    (`interchangeable`)."""
    grams = pd.DataFrame(
        [(i, g) for i, core in enumerate(keys["core"].tolist()) for g in dict.fromkeys(_grams(core))],
        columns=["id", "gram"],
    )
    grams["block"] = keys["block"].to_numpy()[grams["id"].to_numpy()]
    df = grams.groupby(["block", "gram"])["id"].transform("size")
    grams["weight"] = np.log1p(keys.groupby("block")["key"].transform("size").to_numpy()[grams["id"]] / df)
    total = grams.groupby("id")["weight"].sum()
    rare = grams[df.to_numpy() <= RARE_PAIR_KEYS]
    pairs = rare.merge(rare, on=["block", "gram"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["id_a"] < pairs["id_b"]]
    shared = pairs.groupby(["id_a", "id_b"]).agg(weight=("weight_a", "sum"), common=("gram", "size"))
    shared = shared.reset_index()
    union = total.reindex(shared["id_a"]).to_numpy() + total.reindex(shared["id_b"]).to_numpy()
    shared["similarity"] = shared["weight"] / (union - shared["weight"])
    shared["interchangeable"] = _interchangeable(keys, shared["id_a"].to_numpy(), shared["id_b"].to_numpy())
    return shared


def _shared_callers(mentions: pd.DataFrame, keys: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Per candidate pair: the number of callers who named both keys."""
    if pairs.empty:
        return np.zeros(0, dtype=np.int64)
    position = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[["district", "key"]]))
    named = mentions[mentions["caller"].notna()].drop_duplicates(["district", "key", "caller"])
    ids = position.reindex(pd.MultiIndex.from_frame(named[["district", "key"]])).to_numpy()
    callers = pd.DataFrame({"id": ids, "caller": named["caller"].to_numpy(dtype=object)})
    callers = callers[callers["id"].isin(np.union1d(pairs["id_a"], pairs["id_b"]))]
    both = callers.merge(callers, on="caller", suffixes=("_a", "_b"))
    counts = both.groupby(["id_a", "id_b"]).size()
    index = pd.MultiIndex.from_frame(pairs[["id_a", "id_b"]])
    return counts.reindex(index).fillna(0).to_numpy(dtype=np.int64)


def _one_thing(
    keys: pd.DataFrame, pairs: pd.DataFrame, shared_callers: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per candidate pair with interchangeable suffixes: whether the two keys are one thing by the same
    core (the same suffix, or both standing for others), one character of the distinctive name written
    differently (two apart from each other in names of six or more characters; the name of at least
    three, the trade words the same), or the same callers (at least two, half of the fewer's, with a
    weighted share of character pairs of at least 0.3); whether by the same callers; and whether by a
    miswritten character."""
    a, b = pairs["id_a"].to_numpy(), pairs["id_b"].to_numpy()
    core, name = keys["core"].to_numpy(dtype=object), keys["name"].to_numpy(dtype=object)
    trade = keys["trade"].to_numpy(dtype=object)
    length = keys["name"].str.len().to_numpy()
    shortest = np.minimum(length[a], length[b])
    maybe = (trade[a] == trade[b]) & (shortest >= 3) & (np.abs(length[a] - length[b]) <= 2)
    distance = np.full(len(pairs), 99, dtype=np.int64)
    if maybe.any():
        distance[maybe] = process.cpdist(
            name[a[maybe]], name[b[maybe]], scorer=Levenshtein.distance, workers=1
        )
    typo = maybe & (distance <= np.where(shortest < 6, 1, 2))
    twice = np.flatnonzero(typo & (distance == 2))
    typo[twice] = [_apart(name[a[i]], name[b[i]]) for i in twice.tolist()]
    callers = keys["callers"].to_numpy()
    fewer = np.minimum(callers[a], callers[b])
    similar = pairs["similarity"].to_numpy() >= 0.3
    same_callers = (shared_callers >= 2) & (shared_callers >= 0.5 * fewer) & similar
    same_core = (core[a] == core[b]) & (_stands_for(keys, a) == _stands_for(keys, b))
    interchangeable = pairs["interchangeable"].to_numpy(dtype=bool)
    one = (same_core | typo | same_callers) & interchangeable
    return one, same_callers & interchangeable, typo & interchangeable


def _apart(a: str, b: str) -> bool:
    """Two characters written differently are apart in the names (a word of two characters written
    differently is another name: '东方明珠国际'/'星河明珠国际')."""
    places = sorted({op.src_pos for op in Levenshtein.editops(a, b)})
    return len(places) == 2 and places[1] - places[0] > 1


def _stands_for(keys: pd.DataFrame, at: np.ndarray) -> np.ndarray:
    """Per key position: its suffix stands for any of its kind (STANDS_FOR)."""
    suffix, kind = keys["suffix"].to_numpy(dtype=object)[at], keys["kind"].to_numpy(dtype=object)[at]
    return np.array(
        [x in STANDS_FOR.get(k, frozenset()) for x, k in zip(suffix.tolist(), kind.tolist(), strict=True)],
        dtype=bool,
    )


def _contains(long: str, short: str, long_core: str, short_core: str) -> bool:
    """The shorter key ends the longer one, or its core (of at least three characters) starts or ends
    the longer one's core."""
    if len(short) >= len(long):
        return False
    if long.endswith(short):
        return True
    return len(short_core) >= 3 and (long_core.startswith(short_core) or long_core.endswith(short_core))


def _shortened(short: str, long: str) -> bool:
    """A core of three or more characters written with characters of a longer one left out, the first
    two kept ('翠湖天地' of '翠湖国际新天地')."""
    return len(short) >= 3 and short[:2] == long[:2] and _abbreviates(short, long)


def _abbreviates(short: str, long: str) -> bool:
    """The characters of `short` occur in `long` in order, and `short` is shorter ('建工' of '建筑工程')."""
    rest = iter(long)
    return len(short) < len(long) and all(c in rest for c in short)


def _same_trade_name(keys: pd.DataFrame) -> list[tuple[int, int]]:
    """(shorter, longer) pairs of keys of an organisation kind in the same district with the same trade
    name (of at least two characters, shared by at most RARE_PAIR_KEYS keys) and interchangeable
    suffixes, whose trade words the shorter one abbreviates ('鑫源公司', '鑫源工程公司' of
    '鑫源建筑工程公司')."""
    frame = keys[keys["kind"].isin(TRADE_NAMED_KINDS) & (keys["name"].str.len() >= 2)][["block", "name"]]
    frame = frame[frame.groupby(["block", "name"])["name"].transform("size").between(2, RARE_PAIR_KEYS)]
    pairs = frame.reset_index().merge(frame.reset_index(), on=["block", "name"], suffixes=("_a", "_b"))
    a, b = pairs["index_a"].to_numpy(), pairs["index_b"].to_numpy()
    trades = keys["trade"].tolist()
    return [
        (x, y)
        for x, y, same in zip(a.tolist(), b.tolist(), _interchangeable(keys, a, b), strict=True)
        if same and _abbreviates(trades[x], trades[y])
    ]


def _contained(keys: pd.DataFrame, pairs: pd.DataFrame) -> list[tuple[int, int]]:
    """(shorter, longer) of the pairs of keys where one contains the other: of the candidate pairs with
    interchangeable suffixes by `_contains` (only pairs whose shorter core shares all its character
    pairs can, so only those are looked at) or by the same core with a suffix standing for the other,
    and by `_same_trade_name`."""
    key, core = keys["key"].tolist(), keys["core"].tolist()
    grams = np.array([len(_grams(c)) for c in core] + [0], dtype=np.int64)
    a, b = pairs["id_a"].to_numpy(), pairs["id_b"].to_numpy()
    interchangeable = pairs["interchangeable"].to_numpy(dtype=bool)
    whole = (pairs["common"].to_numpy() == np.minimum(grams[a], grams[b])) & interchangeable
    general = _stands_for(keys, np.arange(len(keys))).tolist()
    out = []
    for x, y in zip(a[whole].tolist(), b[whole].tolist(), strict=True):
        if core[x] == core[y]:  # contained when one suffix only stands for others (红星学校, 红星小学)
            if general[x] != general[y]:
                out.append((x, y) if general[x] else (y, x))
        elif _contains(key[x], key[y], core[x], core[y]):
            out.append((y, x))
        elif _contains(key[y], key[x], core[y], core[x]):
            out.append((x, y))
    for x, y in zip(a[interchangeable & ~whole].tolist(), b[interchangeable & ~whole].tolist(), strict=True):
        if _shortened(core[x], core[y]):
            out.append((x, y))
        elif _shortened(core[y], core[x]):
            out.append((y, x))
    return list(dict.fromkeys(out + _same_trade_name(keys)))


def _variants(keys: pd.DataFrame, contained: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(alias, thing) position pairs, both ways, of keys of the same district and kind with the same
    distinctive name (the trade name of an organisation, school or hospital, the core of a place: at
    least two characters, neither generic nor shared by more than RARE_PAIR_KEYS keys) but other trade
    words or another suffix ('福临装修公司'/'福临装饰工程公司', '远大小区'/'远大苑'), not already one
    containing the other, whose trade words say no other trade (the trades of one, `trade_families`,
    are among the other's: '瑞丰物业公司' is never another name of '瑞丰装饰工程公司'). Whether they are
    one thing is for the data to say (`Callers.variant_of`)."""
    names = keys["name"]
    usable = (names.str.len() >= 2) & ~names.isin(GENERIC_WORDS) & ~names.map(is_generic_name).astype(bool)
    frame = keys[usable][["block", "name"]]
    frame = frame[frame.groupby(["block", "name"])["name"].transform("size").between(2, RARE_PAIR_KEYS)]
    pairs = frame.reset_index().merge(frame.reset_index(), on=["block", "name"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["index_a"] != pairs["index_b"]]
    known = set(contained) | {(y, x) for x, y in contained}
    trades = [trade_families(t) for t in keys["trade"].tolist()]
    return sorted(
        (x, y)
        for x, y in zip(pairs["index_a"].tolist(), pairs["index_b"].tolist(), strict=True)
        if (x, y) not in known and (trades[x] <= trades[y] or trades[y] <= trades[x])
    )


def _short_typos(keys: pd.DataFrame, pairs: pd.DataFrame) -> list[tuple[int, int]]:
    """(alias, thing) position pairs, both ways, of candidate pairs whose distinctive names have two
    characters, one written differently, with the same trade words and suffixes that may stand for each
    other ('华连食品公司'/'华联食品公司'): too short a name to tell by its spelling, whether they are one
    thing is for the data to say (`Callers.variant_of`, whatever the categories: the spelling is
    evidence)."""
    name, trade = keys["name"].tolist(), keys["trade"].tolist()
    out = []
    for a, b, interchangeable in zip(
        pairs["id_a"].tolist(), pairs["id_b"].tolist(), pairs["interchangeable"].tolist(), strict=True
    ):
        x, y = name[a], name[b]
        one_differs = len(x) == len(y) == 2 and (x[0] == y[0]) != (x[1] == y[1])
        if interchangeable and one_differs and trade[a] == trade[b] != "":
            out += [(a, b), (b, a)]
    return out


def _components(
    keys: pd.DataFrame,
    pairs: pd.DataFrame,
    shared_callers: np.ndarray,
    windows: pd.DataFrame | None,
    homophones: pd.DataFrame,
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Per key, its merged thing (see the module docstring): the candidate pairs that are one thing
    joined first, then each shorter key contained in longer ones (longest shorter keys first) with
    them, unless two of those are (by then) different things whose cores neither start nor end one
    another; then with those having the same callers, if they may be one thing, else with the one
    most named (`Callers.dominant`); then another name of a thing with it when the data says so
    (`_variants`, `Callers.variant_of`); then a miswritten short form with the thing (`_miswritten`:
    `homophones`, the candidate pairs of `features.grievance_homophones` with their shared callers).
    And the (form, thing) position pairs merged as a shorter, other or miswritten name of a thing."""
    forest = Forest(len(keys))
    contained = _contained(keys, pairs)
    one, same_callers, typo = _one_thing(keys, pairs, shared_callers)
    ordered = pd.MultiIndex.from_tuples([(min(x, y), max(x, y)) for x, y in contained], names=["a", "b"])
    key_pairs = pd.MultiIndex.from_arrays([pairs["id_a"], pairs["id_b"]], names=["a", "b"])
    one &= ~key_pairs.isin(ordered)  # a contained key is merged only by the rule for contained keys
    for a, b in zip(
        pairs["id_a"].to_numpy()[one].tolist(), pairs["id_b"].to_numpy()[one].tolist(), strict=True
    ):
        forest.join(a, b)
    spelt = [(x, y) for x, y in key_pairs[one & typo].tolist() for x, y in ((x, y), (y, x))]
    backed = set(key_pairs[same_callers].tolist())
    inside: dict[int, list[int]] = {}
    for short, long in contained:
        inside.setdefault(short, []).append(long)
    key, core = keys["key"].tolist(), keys["core"].tolist()

    def compatible(x: int, y: int) -> bool:  # may be one thing: one core starts or ends the other
        shorter, longer = sorted((core[x], core[y]), key=len)
        same_kind_of = _interchangeable(keys, np.array([x]), np.array([y]))[0]
        return bool(same_kind_of) and (longer.startswith(shorter) or longer.endswith(shorter))

    callers, shorter = Callers(keys, forest, windows), np.zeros(len(keys), dtype=bool)
    forms: list[tuple[int, int]] = []
    for by_most_named in (False, True):  # the short forms that are clear first, then the others
        for short in sorted(inside, key=lambda x: (-len(key[x]), key[x])):
            if shorter[short]:
                continue
            longs = inside[short]
            things = {forest.find(long): long for long in longs}
            if any(not compatible(x, y) for x in things.values() for y in things.values()):
                # in several things that cannot be one: the same callers decide, else the one most named
                things = {forest.find(x): x for x in longs if (min(short, x), max(short, x)) in backed}
                if by_most_named and not things:
                    things = callers.dominant({forest.find(x): x for x in longs}, short)
            if len(things) >= 1 and all(compatible(x, y) for x in things.values() for y in things.values()):
                for long in things.values():
                    forest.join(short, long)
                    forms.append((short, long))
                shorter[short] = True
    variants, typos, named = _variants(keys, contained), _short_typos(keys, pairs), keys["callers"].to_numpy()
    miswritten = set(typos)  # a miswritten name: its spelling is evidence, its categories need not be
    for alias, thing in variants + typos:  # another name of a thing: when the data says so
        filed = (alias, thing) not in miswritten
        if forest.find(alias) != forest.find(thing) and callers.variant_of(alias, thing, filed=filed):
            forest.join(alias, thing)
    forms += _miswritten(keys, forest, callers, homophones)
    for project, place in _projects_of_places(keys, callers):
        forest.join(project, place)
    # of two names of one thing however merged (the same callers ...), the one with fewer trade words
    # ('瑞丰装修' of '瑞丰装饰工程'), else the less named, is the other name; of two spellings, the
    # less named is the miswritten one ('华连食品公司' of '华联食品公司', whichever was named first); of
    # two spellings of a longer name, one written by a single caller when more wrote the other is
    # ('伊景园宾河苑' of '伊景园滨河苑'; two and three callers: the one named first stays the root)
    trade = keys["trade"].str.len().to_numpy()
    writers = (keys["callers"] + keys["unknown_callers"]).to_numpy()
    spellings = [(a, t) for a, t in typos + spelt if forest.find(a) == forest.find(t)]
    spelt = [(a, t) for a, t in spelt if writers[a] == 1]
    forms += [
        (a, t)
        for a, t in variants + typos + spelt
        if forest.find(a) == forest.find(t)
        and (trade[t] > trade[a] or (trade[t] == trade[a] and named[t] > named[a]))
    ]
    # a spelling of a form of a thing (either way round) is a form of it too: '佳禾装修公司', as many
    # writers as its spelling '嘉禾装修公司', another name of '嘉禾装饰工程公司', is never the root because
    # it was written first
    form_of: dict[int, set[int]] = {}
    for form, thing in forms:
        form_of.setdefault(form, set()).add(thing)
    both_ways = spellings + [(b, a) for a, b in spellings]
    forms += [(a, t) for a, b in both_ways for t in sorted(form_of.get(b, ())) if t != a]
    return forest.components(), forms


def _miswritten(
    keys: pd.DataFrame, forest: Forest, callers: Callers, homophones: pd.DataFrame
) -> list[tuple[int, int]]:
    """The (alias, thing) position pairs merged as a name miswritten (see the module docstring of
    `features.grievance_homophones`). `homophones`: its candidate pairs (id_a, id_b) with the callers
    who named both (shared); only pairs with suffixes that may stand for each other count. Each key is
    seen as the alias of the candidates of more writers than its merged thing (a mention of an unknown
    caller counted as one; of as many, named earlier); of several different things, the one a caller
    of the alias also named when only one is, else the one most named in the alias's windows
    (`Callers.dominant`), else none. Merged when the data says so (`is_miswritten`). Nothing without
    the windows of the calls."""
    if homophones.empty or not callers.windows:
        return []
    a, b = homophones["id_a"].to_numpy(), homophones["id_b"].to_numpy()
    usable = _interchangeable(keys, a, b)
    writers = (keys["callers"] + keys["unknown_callers"]).to_numpy()
    first = keys["first"].to_numpy()
    shared = {}
    for x, y, n in zip(
        a[usable].tolist(), b[usable].tolist(), homophones["shared"][usable].tolist(), strict=True
    ):
        shared[(x, y)] = shared[(y, x)] = int(n)

    def before(y: int, x: int) -> bool:  # y's thing is named by more writers than x's, or as many and earlier
        named = [sum(int(writers[i]) for i in callers.members(forest.find(k))) for k in (y, x)]
        earlier = pd.notna(first[y]) and (pd.isna(first[x]) or first[y] < first[x])
        return named[0] > named[1] or (named[0] == named[1] and bool(earlier))

    out = []
    for alias in sorted({x for x, _ in shared}):
        rivals = [
            y for (x, y) in shared if x == alias and forest.find(y) != forest.find(alias) and before(y, alias)
        ]
        things = {forest.find(y): y for y in rivals}
        if len(things) > 1:
            told = {root: y for root, y in things.items() if shared[(alias, y)] >= 1}
            things = told if len(told) == 1 else callers.dominant(things, alias)
        for thing in things.values():
            if is_miswritten(
                callers.evidence(alias, thing, shared[(alias, thing)]), DOMINANT_CALLERS, DOMINANCE
            ):
                forest.join(alias, thing)
                out.append((alias, thing))
    return out


def _projects_of_places(keys: pd.DataFrame, callers: Callers) -> list[tuple[int, int]]:
    """(project, place) positions of the projects named by the name of a place of their district only
    ('绿洲征迁项目' and the road '绿洲高速', an estate, village or road: PLACE_KINDS) when the windows of
    the calls are known and, in the windows the project was named in, that place is named by most
    callers (`Callers.dominant`) and by at least CO_TIMING times its usual callers a window (the median
    over the other windows, plus one): the place surges when the project is named. A place's name alone is no
    evidence (a district's '锦绣片区改造项目' and '锦绣花园' are two things most of the time)."""
    if not callers.windows:
        return []
    places = keys[keys["kind"].isin(PLACE_KINDS) & (keys["core"].str.len() >= 2)]
    at_place = places.groupby(["district", "core"]).indices
    projects = keys[(keys["kind"] == "project") & (keys["name"].str.len() >= 2)]
    every = {b for seen in callers.windows.values() for b in seen}
    out = []
    for project, district, name in zip(
        projects.index.tolist(), projects["district"].tolist(), projects["name"].tolist(), strict=True
    ):
        found = at_place.get((district, name))
        named_by = sum(callers.windows.get(project, {}).values())
        if found is None or named_by < CO_TIMING_CALLERS or is_generic_name(name):
            continue
        blocks = set(callers.windows[project])
        rest = every - blocks
        things = {callers.forest.find(int(p)): int(p) for p in places.index.to_numpy()[found]}
        for root, place in callers.dominant(things, project).items():
            then = callers.of_thing(root, blocks) / len(blocks)
            usual = float(np.median([callers.of_thing(root, {b}) for b in rest])) + 1.0 if rest else np.inf
            if then >= CO_TIMING * usual:
                out.append((project, place))
    return out


def _forms_of_named(keys: pd.DataFrame, forms: list[tuple[int, int]]) -> np.ndarray:
    """Per key position: it was merged as a shorter or other name of a key named by at least a
    DOMINANCE-th as many callers, a mention whose caller is unknown (a call without a number, a case)
    counted as one (a form of a thing its callers name too: never its root; a form of a name hardly
    written, '新世纪平台' of '新世纪理财平台' named by one caller of ten, may be)."""
    named = (keys["callers"] + keys["unknown_callers"]).to_numpy()
    out = np.zeros(len(keys), dtype=bool)
    for form, thing in forms:
        out[form] |= bool(named[thing] * DOMINANCE >= named[form])
    return out


def alias_roots(mentions: pd.DataFrame) -> pd.DataFrame:
    """Per distinct (district, key): the root key of its merged thing (itself when it has no alias).
    `mentions`: district, key, kind and caller (None when unknown) of every mention, calls and cases,
    and optionally block (the window of a call's mention, missing for a case's): a short form inside
    several things is then judged by the callers of the windows it was named in (`Callers.dominant`),
    and another name of a thing by the windows it was named in (`Callers.variant_of`); category (the
    hotline category of a call's mention, missing or '' for a case's): only the callers of those
    windows filed under the same categories are then counted; and first (the time of a call's mention,
    missing for a case's): the root is then the form named first among those of the most precise suffix
    that are not forms of another.
    Keys are compared without the administrative places they start with (`without_places`), so the
    root may be such a key without its place."""
    if mentions.empty:
        return pd.DataFrame({"district": [], "key": [], "root": []}, dtype=object)
    places = place_names(mentions["district"], mentions["key"])
    codes, distinct = pd.factorize(mentions["key"])
    bare = np.array([without_places(k, places) for k in distinct], dtype=object)
    keys = _described(mentions.assign(key=bare[codes]))
    pairs = _candidate_pairs(keys)
    bare_mentions = mentions.assign(key=bare[codes])
    shared = _shared_callers(bare_mentions, keys, pairs)
    homophones = pd.DataFrame(homophone_pairs(keys, RARE_PAIR_KEYS), columns=["id_a", "id_b"], dtype=np.int64)
    homophones["shared"] = _shared_callers(bare_mentions, keys, homophones)
    component, forms = _components(keys, pairs, shared, window_callers(bare_mentions, keys), homophones)
    ranked = keys.assign(
        component=component,
        form=_forms_of_named(keys, forms),
        general=_stands_for(keys, np.arange(len(keys))),
        suffix_rank=keys["suffix"].map(_SUFFIX_RANK).fillna(len(_SUFFIX_RANK)),
        length=keys["key"].str.len(),
    )
    order = ranked.sort_values(
        [
            "component",
            "general",
            "suffix_rank",
            "form",
            "first",
            "callers",
            "mentions",
            "length",
            "key",
        ],
        ascending=[True, True, True, True, True, False, False, False, True],
        na_position="last",
        kind="stable",
    )
    root = order.drop_duplicates("component").set_index("component")["key"]
    root_of = pd.Series(
        root.reindex(component).to_numpy(dtype=object),
        index=pd.MultiIndex.from_frame(keys[["district", "key"]]),
    )
    written = mentions[["district", "key"]].drop_duplicates().sort_values(["district", "key"])
    as_compared = pd.MultiIndex.from_arrays(
        [written["district"], pd.Series(bare[pd.Index(distinct).get_indexer(written["key"])])]
    )
    return pd.DataFrame(
        {
            "district": written["district"].to_numpy(dtype=object),
            "key": written["key"].to_numpy(dtype=object),
            "root": root_of.reindex(as_compared).to_numpy(dtype=object),
        }
    )
