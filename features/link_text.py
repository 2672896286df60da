"""The call linker's reading of texts: mask tokens removed and text normalised, character n-grams counted
and weighted, and the named things (names and amounts of money) a text mentions."""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd
from scipy import sparse

from contracts.masks import MASK_REGEX
from features.link_arrays import ranges
from features.named_things import read_names

AMOUNT_PATTERN = re.compile(r"(\d+(?:\.\d+)?)\s*(万)?元")
MASK_PATTERN = re.compile(MASK_REGEX)  # the ingest masks: [电话] [身份证号] [姓名]
_SEPARATOR = "\x00"  # between texts when they are counted together (never inside a normalised text)
_CODE_BITS = 21  # a Unicode code point fits in 21 bits, so an n-gram of up to 3 fits in 63


def clean(texts: pd.Series) -> pd.Series:
    """Texts without the ingest's mask tokens ('' for missing)."""
    return texts.astype("string").fillna("").str.replace(MASK_PATTERN.pattern, " ", regex=True)


def normalised(texts: pd.Series) -> pd.Series:
    """Cleaned texts, lower-cased, with every run of white space (or NUL) one space, stripped."""
    return clean(texts).str.lower().str.replace(r"[\s\x00]+", " ", regex=True).str.strip()


def ngram_counts(texts: list[str], ngram_range: tuple[int, int]) -> sparse.csr_matrix:
    """Per text (rows), how often each character n-gram occurs in it (columns: the distinct n-grams of
    these texts in the order of their keys, so any subset of the texts numbers its n-grams in the same
    relative order and sums a row's entries in the same order: a district's figures are the same read
    alone or with others). Texts must not contain NUL. One vectorised pass: every n-gram (n <= 3) is a
    63-bit key of its code points."""
    low, high = ngram_range
    if not texts:
        return sparse.csr_matrix((0, 0))
    codes = np.frombuffer((_SEPARATOR.join(texts) + _SEPARATOR).encode("utf-32-le"), dtype=np.uint32)
    codes = codes.astype(np.uint64)
    ends = codes == 0
    text_of = np.cumsum(ends) - ends
    rows, keys = [], []
    for size in range(low, high + 1):
        starts = max(len(codes) - size + 1, 0)
        inside = np.ones(starts, dtype=bool)
        key = np.zeros(starts, dtype=np.uint64)
        for offset in range(size):
            part = codes[offset : offset + starts]
            inside &= part != 0
            key = (key << np.uint64(_CODE_BITS)) | part
        rows.append(text_of[:starts][inside])
        keys.append(key[inside])  # sizes never collide: an n-gram's first code point is > 0
    column, vocabulary = pd.factorize(np.concatenate(keys), sort=True)
    counts = sparse.coo_matrix(
        (np.ones(len(column)), (np.concatenate(rows), column)), shape=(len(texts), len(vocabulary))
    ).tocsr()  # duplicates summed: one entry per (text, n-gram)
    counts.sort_indices()
    return counts


def sublinear(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """1 + ln(count) for every count, each row's entries in column order."""
    out = counts.copy()
    out.sort_indices()
    out.data = 1.0 + np.log(out.data)
    return out


def norms(rows: sparse.csr_matrix, squared_weights: np.ndarray) -> np.ndarray:
    """Per row, the l2 norm of the row times the weights (inf for an empty row, so it divides to 0)."""
    owner = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    squares = np.bincount(
        owner, weights=rows.data**2 * squared_weights[rows.indices], minlength=rows.shape[0]
    )
    return np.where(squares > 0, np.sqrt(squares), np.inf)


def named_things(text: str) -> set[str]:
    """The organisation/place names (features.named_things.read_names) and amounts of money a text
    mentions (amounts as 'N元')."""
    things = {name for name, _ in read_names(text)}
    for number, wan in AMOUNT_PATTERN.findall(text):
        value = float(number) * (10_000 if wan else 1)
        if value > 0:
            things.add(f"{value:.0f}元")
    return things


@functools.lru_cache(maxsize=1 << 17)
def things_of(text: str) -> tuple[str, ...]:
    """named_things of a text, sorted (cached: the same descriptions are read for every date)."""
    return tuple(sorted(named_things(text)))


def things_table(texts: pd.Series, vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(position in texts, thing code) of every named thing of every text, by position; new things are
    added to the vocabulary. Each distinct text is read once."""
    codes, distinct = pd.factorize(clean(texts).astype(object))
    per_text = [[vocabulary.setdefault(t, len(vocabulary)) for t in things_of(text)] for text in distinct]
    lengths = np.array([len(t) for t in per_text] + [0], dtype=np.int64)
    flat = np.array([c for things in per_text for c in things], dtype=np.int64)
    count = lengths[codes]
    position = np.repeat(np.arange(len(codes)), count)
    return position, flat[ranges(np.r_[0, np.cumsum(lengths)][codes], count)]
