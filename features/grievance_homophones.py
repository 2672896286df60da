"""Miswritten short forms of a thing's name: keys of one district and kind whose distinctive names (the
trade name of an organisation, school or hospital, the core of a place: what is left once the existing
normalisation has taken off places, suffixes and trade words) have the same length and differ in one
character read alike (the same pinyin without tones: "新源公司" for "鑫源建筑工程公司", an input method's
slip), with suffixes that may stand for each other and trade words that say no other trade.

Such a pair is only a candidate (`homophone_pairs`): two real companies may be called 新源 and 鑫源.
Whether the rarer form is the other one miswritten is for the data to say (`is_miswritten`, fed by
`features.grievance_aliases`). The rule: docs/design/grievance-homophones.md.

Pure functions; loops run over distinct keys, never over records.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import version

import numpy as np
import pandas as pd

from contracts.private_cache import kept
from features.grievance_keys import is_generic_name, trade_families
from features.named_things import GENERIC_WORDS


def readings(char: str) -> frozenset[str]:
    """The toneless pinyin readings of a Chinese character (every reading of a heteronym: 长 is chang
    and zhang); empty for any other character and for the few that pypinyin cannot read (兙)."""
    return _reading_table().get(char, frozenset())


@cache
def _reading_table() -> dict[str, frozenset[str]]:
    """The readings of every character of the CJK Unified Ideographs block, kept in the private cache
    (pypinyin's import reads its phrase dictionaries: 0.15 s of every process that compares names, against
    0.015 s to load the table)."""
    return kept(f"pypinyin-{version('pypinyin')}-toneless-readings", _built_reading_table)


def _built_reading_table() -> dict[str, frozenset[str]]:
    """pypinyin's toneless readings of each character from U+4E00 to U+9FFF, those it cannot read left out."""
    from pypinyin import Style, pinyin

    table = {}
    for code in range(0x4E00, 0xA000):
        found = pinyin(chr(code), style=Style.NORMAL, heteronym=True, errors="ignore")
        if found:
            table[chr(code)] = frozenset(found[0])
    return table


def read_alike(a: str, b: str) -> bool:
    """Two different Chinese characters share a toneless reading (新 and 鑫: xin)."""
    return a != b and bool(readings(a) & readings(b))


def homophone_pairs(keys: pd.DataFrame, rare_keys: int) -> list[tuple[int, int]]:
    """(x, y) position pairs, x < y, of keys of the same block (district and kind) whose distinctive
    names (`name`, of at least two characters, neither generic nor the name of more than `rare_keys`
    keys of the block) have the same length and differ in exactly one character, the two characters
    read alike (`read_alike`), and whose trade words say no other trade (the trades of one,
    `trade_families`, are among the other's: '新源公司' and '鑫源建筑工程公司', never '新源物业公司'
    and '鑫源建筑工程公司'). `keys`: block, name and trade per key position (suffixes are checked by the
    caller)."""
    names = keys["name"].astype(object)
    usable = (names.str.len() >= 2) & ~names.isin(GENERIC_WORDS) & ~names.map(is_generic_name).astype(bool)
    usable &= keys.groupby(["block", "name"])["name"].transform("size") <= rare_keys
    blocks, trades = keys["block"].to_numpy(), keys["trade"].tolist()
    masked: dict[tuple[int, str, int], list[int]] = {}
    for at in np.flatnonzero(usable.to_numpy()).tolist():
        name = names.iat[at]
        for i in range(len(name)):  # the name with one character masked: names alike but for it
            masked.setdefault((int(blocks[at]), name[:i] + "\0" + name[i + 1 :], i), []).append(at)
    out = set()
    for (_, _, i), members in masked.items():
        for k, x in enumerate(members):
            for y in members[k + 1 :]:
                a, b = names.iat[x][i], names.iat[y][i]
                families = trade_families(trades[x]), trade_families(trades[y])
                if read_alike(a, b) and (families[0] <= families[1] or families[1] <= families[0]):
                    out.add((min(x, y), max(x, y)))
    return sorted(out)


@dataclass(frozen=True)
class Evidence:
    """What the calls say of a candidate pair, seen from its rarer form (the alias) and the other (the
    thing): the distinct callers of each over the lookback, the windows each was named in, the callers
    of each in the alias's windows filed under the alias's categories (summed over the windows and
    categories), and the callers who named both."""

    alias_callers: int
    thing_callers: int
    alias_windows: frozenset[int]
    thing_windows: frozenset[int]
    alias_callers_then: int
    thing_callers_then: int
    shared_callers: int


def is_miswritten(evidence: Evidence, established: int, dominance: float) -> bool:
    """The alias is the thing miswritten (docs/design/grievance-homophones.md): it lives only in the
    thing's life (every window it was named in is one the thing was named in, or the one just before
    the thing's first: 0 is the latest window), and either
    - it is much smaller: at the same time and under the same categories the thing was named by at
      least `established` callers and `dominance` times as many as the alias; or
    - a caller named both, and the alias is not established (named by fewer than `established`
      callers) and named by fewer callers than the thing.
    Two forms each named by `established` callers or more, in comparable numbers, are two things,
    whoever named them."""
    e = evidence
    onset = {max(e.thing_windows) + 1} if e.thing_windows else set()
    if not e.alias_windows or not e.alias_windows <= e.thing_windows | onset:
        return False
    then = e.thing_callers_then
    much_smaller = then >= established and then >= dominance * e.alias_callers_then
    backed = e.shared_callers >= 1 and e.alias_callers < established and e.alias_callers < e.thing_callers
    return much_smaller or backed
