"""Pseudonymisation at the door: keyed hashes for identifiers, masks for numbers inside free text."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from contracts.masks import ID_MASK, NAME_MASK, PHONE_MASK
from ingest.person_names import SURNAME_PREFILTER, mask_names

PSEUDONYM_SUFFIX = "_pid"

# Texts are matched after a one-to-one character translation (_FULL_WIDTH_DIGITS): every Unicode decimal
# digit to its ASCII digit, every dash to '-', full-width '．／＋Ｘｘ' to ASCII and zero-width characters
# to a space;
# Python's \s already covers the Unicode spaces (no-break, thin, narrow no-break, ideographic).
# Between digit groups: up to 3 spaces, or one of - . / with up to 2 spaces either side ("138 - 1234 - 5678").
_SEP = r"(?:\s{0,2}[-./]\s{0,2}|\s{1,3})?"
_MOBILE = re.compile(rf"(?<!\d)(?:(?:\+|00)?\s?86{_SEP})?1[3-9]\d(?:{_SEP}\d){{8}}(?!\d)")
_LANDLINE = re.compile(
    rf"(?<!\d)(?:(?:\+|00)?\s?86{_SEP})?(?:[(（]0?\d{{2,3}}[)）]|0\d{{2,3}}){_SEP}\d{{3,4}}{_SEP}\d{{4}}(?!\d)"
)
_INTERNATIONAL_LANDLINE = re.compile(rf"(?:\+|00)\s?86{_SEP}[1-9]\d{{1,2}}{_SEP}\d{{3,4}}{_SEP}\d{{4}}(?!\d)")
# 18-character resident IDs (6-digit area, birth date, 3 digits, check character) and 15-digit old ones;
# a wrong check character is still someone's (mistyped) ID number, so any plausible birth date counts.
_BIRTH = rf"(?:19|20)\d{{2}}{_SEP}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID_NUMBER = re.compile(rf"(?<!\d)\d{{6}}{_SEP}{_BIRTH}{_SEP}\d{{3}}[\dXx](?![\dA-Za-z])")
_OLD_ID_NUMBER = re.compile(
    rf"(?<!\d)\d{{6}}{_SEP}\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]){_SEP}\d{{3}}(?!\d)"
)
_DASHES = "".join(chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Pd") + "\u2212"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_DIGITS = {
    c: ord("0") + unicodedata.digit(chr(c)) for c in range(0x10000) if unicodedata.category(chr(c)) == "Nd"
}
_FULL_WIDTH_DIGITS: dict[int, int] = {
    **{c: d for c, d in _DIGITS.items() if c != d},
    **{ord(c): ord("-") for c in _DASHES if c != "-"},
    **{ord(c): ord(" ") for c in _ZERO_WIDTH},
    **str.maketrans("．／＋Ｘｘ", "./+Xx"),
}

# Identifier namespace per personal field: the same phone in any column gives the same pseudonym.
IDENTIFIER_KIND = {
    "reporter_phone": "phone",
    "caller_phone": "phone",
    "reporter_name": "name",
    "caller_name": "name",
    "reporter_id_number": "id_number",
    "address": "address",
}


def normalise_identifier(value: str, kind: str) -> str:
    """The canonical form of an identifier, so that formatting does not change its pseudonym."""
    return str(_normalise(pd.Series([value], dtype="object"), kind).iloc[0])


def _normalise(values: pd.Series, kind: str) -> pd.Series:
    """Canonical forms of identifiers (vectorised): phone digits without +86/0086, IDs upper-cased.

    Any Unicode digit counts as its ASCII digit and a full-width X as X.
    """
    values = values.str.translate(_FULL_WIDTH_DIGITS)
    if kind == "phone":
        digits = values.str.replace(r"\D", "", regex=True)
        international = digits.str.startswith("0086") | (
            digits.str.startswith("86") & (digits.str.len() == 13)
        )
        return digits.where(~international, digits.str.replace(r"^(?:0086|86)", "", regex=True))
    if kind == "id_number":
        return values.str.replace(r"\s", "", regex=True).str.upper()
    return values.str.replace(r"\s+", "", regex=True)


def pseudonym(value: str, kind: str, key: bytes) -> str:
    """A keyed HMAC-SHA256 pseudonym (hex, 20 characters) of an identifier of the given kind."""
    return _pseudonyms([normalise_identifier(value, kind)], kind, key)[0]


def _pseudonyms(canonical: list[str], kind: str, key: bytes) -> list[str]:
    """Pseudonyms of canonical identifiers; the keyed HMAC state is set up once and copied."""
    keyed = hmac.new(key, digestmod=hashlib.sha256)
    out = []
    for value in canonical:
        digest = keyed.copy()
        digest.update(f"{kind}:{value}".encode())
        out.append(digest.hexdigest()[:20])
    return out


def pseudonymise_column(values: pd.Series, kind: str, key: bytes) -> pd.Series:
    """Pseudonyms for a column of identifiers; empty cells, and cells with nothing of an identifier in
    them (a phone cell reading 不详), stay empty (missing).

    Each distinct value is normalised and hashed once, then mapped back to its rows.
    """
    present = _text_series(values).str.strip()
    codes, uniques = pd.factorize(present)
    distinct = pd.Series(uniques, dtype="object")
    canonical = _normalise(distinct, kind)
    hashed = np.array(_pseudonyms(canonical.tolist(), kind, key), dtype=object)
    hashed[(distinct.to_numpy() == "") | (canonical.to_numpy() == "")] = None
    return pd.Series(hashed[codes], index=values.index, dtype="str")


_ANY_NUMBER = re.compile(
    # Every alternative starts with a digit, '+' or an opening bracket; saying so up front lets the
    # engine skip all other positions quickly without changing what matches.
    r"(?=[\d+(（])(?:"
    + "|".join(
        f"(?P<{name}>{pattern.pattern})"
        for name, pattern in (
            ("id", _ID_NUMBER),
            ("old_id", _OLD_ID_NUMBER),
            ("mobile", _MOBILE),
            ("international", _INTERNATIONAL_LANDLINE),
            ("landline", _LANDLINE),
        )
    )
    + ")"
)
_TRANSLATED = re.compile("[" + re.escape("".join(chr(c) for c in _FULL_WIDTH_DIGITS)) + "]")
# Texts that may hold a personal number (RE2 syntax, run by pyarrow on whole columns): only these are masked.
_CANDIDATE = (
    r"\p{Nd}[\p{Nd}\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}\p{Pd}\x{2212}\x{200b}-\x{200d}\x{2060}\x{feff}"
    r"./．／()（）]{5,}[\p{Nd}XxＸｘ]"
)


def _mask_match(match: re.Match[str]) -> str:
    return ID_MASK if match.lastgroup in ("id", "old_id") else PHONE_MASK


def mask_text(text: str) -> str:
    """Free text with mobile and landline numbers and resident ID numbers replaced by mask tokens."""
    if _TRANSLATED.search(text):
        text = text.translate(_FULL_WIDTH_DIGITS)
    return _ANY_NUMBER.sub(_mask_match, text)


def _text_series(values: pd.Series) -> pd.Series:
    """Cells as text (str dtype), '' where missing."""
    if isinstance(values.dtype, pd.StringDtype):
        return values.fillna("")
    return values.astype(object).where(values.notna(), "").astype(str)


def _texts(values: pd.Series) -> np.ndarray:
    """Cells as an object array of Python strings, '' where missing."""
    return _text_series(values).to_numpy(dtype=object, na_value="")


def _with_names_masked(texts: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Each text with its own row's name (two characters or more) replaced by the name mask."""
    return np.array(
        [t.replace(n, NAME_MASK) if len(n) >= 2 else t for t, n in zip(texts, names, strict=True)],
        dtype=object,
    )


def _candidates(texts: np.ndarray) -> np.ndarray:
    """Positions of texts with a digit run long enough to be a phone or ID number (vectorised)."""
    return _matching(texts, _CANDIDATE)


def _matching(texts: np.ndarray, pattern: str) -> np.ndarray:
    """Positions of texts in which the RE2 pattern matches (pyarrow, whole array at once)."""
    found = pc.match_substring_regex(pa.array(texts, type=pa.string()), pattern)
    return np.flatnonzero(found.to_numpy(zero_copy_only=False))


def mask_free_text(text: str, name: str | None = None) -> str:
    """One free text masked as mask_column masks it: the row's own name, personal numbers, other names."""
    if name is not None and len(name) >= 2:
        text = text.replace(name, NAME_MASK)
    if len(_candidates(np.array([text], dtype=object))):
        text = mask_text(text)
    return mask_names(text, NAME_MASK)


def mask_column(values: pd.Series, names: pd.Series | None = None) -> pd.Series:
    """Masked free text; where names are given, each row's own name is masked in its text too.

    Each distinct text is masked once: numbers where the prefilter finds a long digit run, people's names
    where it finds a surname character.
    """
    texts = _texts(values)
    if names is not None:
        texts = _with_names_masked(texts, _texts(names))
    codes, uniques = pd.factorize(texts)
    distinct = np.asarray(uniques, dtype=object)
    for position in _candidates(distinct):
        distinct[position] = mask_text(distinct[position])
    for position in _matching(distinct, SURNAME_PREFILTER):
        distinct[position] = mask_names(distinct[position], NAME_MASK)
    texts = distinct[codes] if len(codes) else texts
    texts[texts == ""] = None
    return pd.Series(texts, index=values.index, dtype="str")
