"""Things named by their name alone: a call that names a thing already known in its district without
the suffix that says its kind ("反映顺发的电梯坏了" for 顺发花园, "在鑫源建工干活" for 鑫源建筑工程公司,
"投诉宏达金融" for 宏达金融APP), as callers on a message board write once everyone knows what is meant.

`bare_mentions(texts, districts, things, places)` reads, in the texts that name no thing with a suffix,
the names of the things known in their district (`things`: the keys of the calls and cases of the
window, guard and baseline, with the root each is merged into). A name read alone is

- the whole core of one of a thing's keys (what stands before its suffix: 顺发 of 顺发花园, 宏达金融 of
  宏达金融平台), of at least two characters, neither a generic word nor a place's name; or
- an abbreviation of a core of five characters or more: at least four of its characters in order, the
  first two kept (锦绣棚改 and 锦绣片区棚改 of 锦绣片区棚户区改造, 鑫源建工 and 鑫源建筑 of 鑫源建筑工程).

It must stand where a name stands: at the start of the text, or after a break, a context word (反映,
在, 的 ...), an administrative place (..区, ..街道, a district's name) or a word describing a property
(安置房 ...); a name of two or three characters must also be followed by 的, a break or the end (a short
word may begin a longer one: 在阳光下 names no 阳光花园). At each place the longest name read wins; a
name that is the name of two things of the district names neither, unless one of them holds at least
DOMINANT_SHARE of the mentions of the things with that name (顺发 is 顺发花园, named 31 times, not 顺发村,
named once in a case description); and a name inside a thing the text names with a suffix of another
kind (顺发超市) is that thing's. A platform (a thing in no place, keyed in its home district) is read in
every district's texts.

Pure functions; loops run over the distinct texts without a named thing and their few candidate names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.grievance_keys import PLACELESS_KINDS, is_generic_name
from features.grievance_words import DESCRIPTORS
from features.named_things import BOUNDARY_WORDS, COMPLAINT_WORDS, GENERIC_WORDS, split_suffix

MIN_ABBREVIATION = 4  # characters of an abbreviation of a core (the first two kept, the rest in order)
SHORT_NAME = 3  # a name of at most this many characters must also be followed by 的, a break or the end
DOMINANT_SHARE = 0.8  # a core shared by things of a district names the one with this share of its mentions
_ANYWHERE = ""  # the district of the names read in every district's texts (platforms)
_PLACE_UNITS = ("省", "市", "区", "县", "镇", "乡", "街道", "社区")
_NAME_CHARACTER = re.compile("[\u4e00-\u9fff]")
_COLUMNS = ("pos", "thing", "kind", "key", "member", "district")


def _core(key: str) -> str:
    return split_suffix(key)[0]


def known_names(things: pd.DataFrame, places: Iterable[str]) -> pd.DataFrame:
    """Per (district, core): the thing (root key, kind, member key whose core it is, the thing's
    district) it names alone; a platform's under every district (''); cores of fewer than two
    characters, generic words and places' names left out, and a core of two things of a district
    left out unless one of them holds at least DOMINANT_SHARE of its mentions (the rows of `things`).
    `things`: district, key (root), member, kind; one row per mention."""
    frame = things[["district", "key", "member", "kind"]]
    frame = frame.assign(core=frame["member"].map(_core), home=frame["district"])
    frame.loc[frame["kind"].isin(PLACELESS_KINDS).to_numpy(), "district"] = _ANYWHERE
    excluded = set(places) | set(GENERIC_WORDS)
    usable = frame["core"].map(lambda c: len(c) >= 2 and c not in excluded and not is_generic_name(c))
    frame = frame[usable.to_numpy(dtype=bool)]
    mentions = frame.groupby(["district", "core", "key"], sort=False).size()
    share = mentions / mentions.groupby(level=["district", "core"]).transform("sum")
    named = share[share >= DOMINANT_SHARE - 1e-9].index
    at = pd.MultiIndex.from_frame(frame[["district", "core", "key"]])
    frame = frame[at.isin(named)].drop_duplicates(["district", "core"])
    return frame.reset_index(drop=True)


def _read_at(text: str, start: int, core: str) -> int:
    """The length of the name read at text[start:] as the core: the whole core, or the longest
    abbreviation of it (the first two characters, then characters of the core in order) of at least
    MIN_ABBREVIATION characters; 0 when neither."""
    if text.startswith(core, start):
        return len(core)
    if len(core) <= MIN_ABBREVIATION:
        return 0
    at, length = 2, 2
    while start + length < len(text):
        found = core.find(text[start + length], at)
        if found < 0:
            break
        at, length = found + 1, length + 1
    return length if length >= MIN_ABBREVIATION else 0


def _stands_alone(text: str, start: int, end: int, before_words: tuple[str, ...]) -> bool:
    """The name text[start:end] stands where a name stands (see the module docstring)."""
    before = text[:start]
    if before and _NAME_CHARACTER.fullmatch(before[-1]) and not before.endswith(before_words):
        return False
    if end - start > SHORT_NAME or end == len(text):
        return True
    return text[end] == "的" or _NAME_CHARACTER.fullmatch(text[end]) is None


def _heads(names: pd.DataFrame) -> dict[str, list[int]]:
    """Per first two characters of the names: the rows of the names starting with them."""
    by_head: dict[str, list[int]] = {}
    for row, core in enumerate(names["core"].tolist()):
        by_head.setdefault(core[:2], []).append(row)
    return by_head


def _read_text(
    text: str,
    cores: list[str],
    roots: list[str],
    heads: dict[str, list[int]],
    before_words: tuple[str, ...],
    named: list[str],
) -> list[tuple[int, int, int]]:
    """(name row, start, end) of the names read alone in one text (`cores`: those of its district,
    `roots`: the things they name, `heads`: `_heads` of them; `named`: the things the text names with
    a suffix)."""
    out = []
    for start in range(len(text) - 1):
        rows = heads.get(text[start : start + 2])
        if rows is None:
            continue
        read = [(_read_at(text, start, cores[row]), row) for row in rows]
        longest = max(length for length, _ in read)
        best = [row for length, row in read if length == longest]
        name = text[start : start + longest]
        if (
            longest
            and len({roots[row] for row in best}) == 1
            and _stands_alone(text, start, start + longest, before_words)
            and not any(name in thing for thing in named)
        ):
            out.append((best[0], start, start + longest))
    return out


def _may_name(texts: pd.Series, cores: pd.Series) -> np.ndarray:
    """Whether each text holds the first two characters of one of the cores (missing texts do not): only
    those are read (RE2 over the whole column)."""
    heads = sorted(set(cores.str[:2]))
    array = pa.array(texts.where(texts.notna(), None).tolist(), type=pa.large_string())
    found = pc.match_substring_regex(array, "|".join(map(re.escape, heads)))
    return np.asarray(found.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def bare_mentions(
    texts: pd.Series,
    districts: pd.Series,
    things: pd.DataFrame,
    places: Iterable[str],
    named: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """(pos, thing, kind, key, member, district) of the names of known things read alone in the texts
    (positions in `texts`, which should name no thing of a configured kind; `districts` the texts'
    districts): `thing` is the name as written, `key` the thing's root, `member` the key whose core it
    is, `district` the thing's. `things`: district, key (root), member, kind of the known keys;
    `places`: names of administrative places (`grievance_keys.place_names`); `named`: (pos, thing) of
    the things of any kind the texts name with a suffix."""
    places = tuple(places)
    names = known_names(things, places)
    empty = pd.DataFrame({c: pd.Series(dtype=np.int64 if c == "pos" else object) for c in _COLUMNS})
    if names.empty or texts.empty:
        return empty
    before_words = (*BOUNDARY_WORDS, *COMPLAINT_WORDS, *_PLACE_UNITS, *places, *DESCRIPTORS)
    frame = pd.DataFrame({"text": texts.to_numpy(dtype=object), "district": districts.to_numpy(dtype=object)})
    frame["pos"] = np.arange(len(frame))
    frame = frame[_may_name(frame["text"], names["core"])]
    # Each distinct (district, text) is read once.
    frame["code"] = frame.groupby(["district", "text"], sort=False, dropna=False).ngroup()
    distinct = frame.drop_duplicates("code")
    suffixed: dict[int, list[str]] = {}
    if named is not None and len(named):
        code_of = pd.Series(frame["code"].to_numpy(), index=frame["pos"].to_numpy())
        with_code = named.assign(code=code_of.reindex(named["pos"]).to_numpy())
        suffixed = with_code.dropna(subset=["code"]).groupby("code")["thing"].agg(list).to_dict()
    everywhere = names[names["district"] == _ANYWHERE]
    read = []
    for district, group in distinct.groupby("district", sort=False, dropna=False):
        local = pd.concat([names[names["district"] == district], everywhere], ignore_index=True)
        local = local.drop_duplicates("core", keep=False)
        if local.empty:
            continue
        cores, roots, heads = local["core"].tolist(), local["key"].tolist(), _heads(local)
        described = local[["kind", "key", "member", "home"]].to_numpy(dtype=object)
        for code, text in zip(group["code"].tolist(), group["text"].tolist(), strict=True):
            for row, begin, end in _read_text(
                text, cores, roots, heads, before_words, suffixed.get(code, [])
            ):
                read.append((code, text[begin:end], *described[row]))
    if not read:
        return empty
    found = pd.DataFrame(read, columns=["code", "thing", "kind", "key", "member", "district"], dtype=object)
    found = frame[["pos", "code"]].merge(found.astype({"code": np.int64}), on="code")[list(_COLUMNS)]
    return found.drop_duplicates(["pos", "key"]).sort_values("pos", kind="stable").reset_index(drop=True)
