"""Personal data masked inside free text, as ingest stores it and as the dashboard stores analysts' notes:
mobile, landline and resident ID numbers, a row's own name and other people's names become mask tokens."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from contracts.masks import ID_MASK, NAME_MASK, PHONE_MASK
from contracts.person_names import CLAUSE_END, CLAUSE_PREFILTER, SURNAME_PREFILTER, mask_names

# Texts are matched after a one-to-one character translation (FULL_WIDTH_DIGITS): every Unicode decimal
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
FULL_WIDTH_DIGITS: dict[int, int] = {
    **{c: d for c, d in _DIGITS.items() if c != d},
    **{ord(c): ord("-") for c in _DASHES if c != "-"},
    **{ord(c): ord(" ") for c in _ZERO_WIDTH},
    **str.maketrans("．／＋Ｘｘ", "./+Xx"),
}


def text_series(values: pd.Series) -> pd.Series:
    """Cells as text (str dtype), '' where missing."""
    if isinstance(values.dtype, pd.StringDtype):
        return values.fillna("")
    return values.astype(object).where(values.notna(), "").astype(str)


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
# Numbers written in Chinese numerals (手机一三八一二三四五六七八, 身份证号三三零一...): a run of at least 7
# numerals and digits, up to 3 spaces or dashes between them, is read as digits before the patterns match
# (三个月, 十二月 and other short runs are left alone).
CHINESE_NUMERALS = "〇零一二三四五六七八九幺"
_NUMERAL_DIGITS = str.maketrans(CHINESE_NUMERALS, "001234567891")
_NUMERAL = f"[{CHINESE_NUMERALS}0-9]"
_NUMERAL_RUN = re.compile(f"{_NUMERAL}(?:[\\s-]{{0,3}}{_NUMERAL}){{6,}}")
_HAS_NUMERAL = re.compile(f"[{CHINESE_NUMERALS}]")


_TRANSLATED = re.compile("[" + re.escape("".join(chr(c) for c in FULL_WIDTH_DIGITS)) + "]")
# Texts that may hold a personal number (RE2 syntax, run by pyarrow on whole columns): only these are masked.
_CANDIDATE = (
    r"\p{Nd}[\p{Nd}\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}\p{Pd}\x{2212}\x{200b}-\x{200d}\x{2060}\x{feff}"
    r"./．／()（）]{5,}[\p{Nd}XxＸｘ]" + f"|{_NUMERAL}(?:[\\s-]{{0,3}}{_NUMERAL}){{6,}}"
)


def _numerals_as_digits(text: str) -> str:
    """text with each run of at least 7 Chinese numerals and digits read as ASCII digits (same length)."""
    return _NUMERAL_RUN.sub(lambda m: m.group().translate(_NUMERAL_DIGITS), text)


def number_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, mask) of every phone and ID number in text, whatever its digits (Unicode, full-width,
    Chinese numerals)."""
    read = text.translate(FULL_WIDTH_DIGITS)
    if _HAS_NUMERAL.search(read):
        read = _numerals_as_digits(read)
    return _spans(read)


def _spans(read: str) -> list[tuple[int, int, str]]:
    """(start, end, mask) of every phone and ID number in text already read as ASCII digits."""
    return [(*m.span(), _mask_match(m)) for m in _ANY_NUMBER.finditer(read)]


def _mask_match(match: re.Match[str]) -> str:
    return ID_MASK if match.lastgroup in ("id", "old_id") else PHONE_MASK


def mask_text(text: str) -> str:
    """Free text with mobile and landline numbers and resident ID numbers replaced by mask tokens."""
    if _TRANSLATED.search(text):
        text = text.translate(FULL_WIDTH_DIGITS)  # translated text translates to itself
    read = _numerals_as_digits(text) if _HAS_NUMERAL.search(text) else text
    if read == text:  # no run of Chinese numerals to read as digits (三个月, 一起): the text as it is
        return _ANY_NUMBER.sub(_mask_match, text)
    for start, end, mask in reversed(_spans(read)):
        text = text[:start] + mask + text[end:]
    return text


def _texts(values: pd.Series) -> np.ndarray:
    """Cells as an object array of Python strings, '' where missing."""
    return text_series(values).to_numpy(dtype=object, na_value="")


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


# Put after each clause's punctuation so that Arrow cuts texts into clauses that keep it (a text holding
# the mark itself is judged whole).
_CUT = "\x00"


def _names_masked(texts: np.ndarray) -> np.ndarray:
    """`mask_names` of each text (an object array of str), judging each distinct clause once.

    Names never span clause punctuation (CLAUSE_END), so a text masked whole equals its clauses, each
    with the punctuation after it, masked one by one and joined. Arrow cuts the texts, finds the distinct
    clauses and those that can hold a name (CLAUSE_PREFILTER), and joins them again; Python judges only
    those."""
    if not len(texts):
        return texts
    whole = pa.array(texts, type=pa.string())
    marked = pc.match_substring(whole, _CUT).to_numpy(zero_copy_only=False)
    if marked.any():
        out = texts.copy()
        out[~marked] = _names_masked(texts[~marked])
        out[marked] = [mask_names(text, NAME_MASK) for text in texts[marked]]
        return out
    cut = pc.replace_substring_regex(whole, pattern=CLAUSE_END, replacement="\\0" + _CUT)
    clauses = pc.split_pattern(cut, _CUT)
    encoded = pc.dictionary_encode(clauses.values)
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
    masked = distinct.copy()
    for position in _matching(distinct, CLAUSE_PREFILTER):
        masked[position] = mask_names(distinct[position], NAME_MASK)
    if not (masked != distinct).any():
        return texts
    joined = pa.ListArray.from_arrays(clauses.offsets, pa.array(masked, pa.string()).take(encoded.indices))
    return pc.binary_join(joined, "").to_numpy(zero_copy_only=False)


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
    named = _matching(distinct, SURNAME_PREFILTER)
    distinct[named] = _names_masked(distinct[named])
    texts = distinct[codes] if len(codes) else texts
    texts[texts == ""] = None
    return pd.Series(texts, index=values.index, dtype="str")
