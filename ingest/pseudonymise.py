"""Pseudonymisation at the door: keyed hashes for identifiers, masks for numbers inside free text."""

from __future__ import annotations

import hashlib
import hmac
import re

import pandas as pd

PHONE_MASK = "[电话]"
ID_MASK = "[身份证号]"
NAME_MASK = "[姓名]"
PSEUDONYM_SUFFIX = "_pid"

_MOBILE = re.compile(r"(?<![\d])(?:(?:\+|00)?86[-\s]?)?1[3-9]\d(?:[-\s]?\d){8}(?![\d])")
_LANDLINE = re.compile(r"(?<![\d])0\d{2,3}[-\s]?\d{7,8}(?![\d])")
_ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Identifier namespace per personal field: the same phone in any column gives the same pseudonym.
IDENTIFIER_KIND = {
    "reporter_phone": "phone",
    "caller_phone": "phone",
    "reporter_name": "name",
    "caller_name": "name",
    "reporter_id_number": "id_number",
    "address": "address",
}


def is_valid_id_number(value: str) -> bool:
    """Whether an 18-character resident ID number has a valid GB 11643 check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def normalise_identifier(value: str, kind: str) -> str:
    """The canonical form of an identifier, so that formatting does not change its pseudonym."""
    value = value.strip()
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        if digits.startswith("0086"):
            digits = digits[4:]
        elif digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        return digits
    if kind == "id_number":
        return re.sub(r"\s", "", value).upper()
    return re.sub(r"\s+", "", value)


def pseudonym(value: str, kind: str, key: bytes) -> str:
    """A keyed HMAC-SHA256 pseudonym (hex, 20 characters) of an identifier of the given kind."""
    canonical = normalise_identifier(value, kind)
    digest = hmac.new(key, f"{kind}:{canonical}".encode(), hashlib.sha256).hexdigest()
    return digest[:20]


def pseudonymise_column(values: pd.Series, kind: str, key: bytes) -> pd.Series:
    """Pseudonyms for a column of identifiers; empty cells stay empty (None)."""
    present = values.fillna("").astype(str).str.strip()
    uniques = present[present != ""].unique()
    mapping = {raw: pseudonym(raw, kind, key) for raw in uniques}
    return present.map(mapping).where(present != "", None)


def mask_text(text: str) -> str:
    """Free text with mobile, landline and valid resident ID numbers replaced by mask tokens."""
    text = _ID_NUMBER.sub(lambda m: ID_MASK if is_valid_id_number(m.group()) else m.group(), text)
    text = _MOBILE.sub(PHONE_MASK, text)
    return _LANDLINE.sub(PHONE_MASK, text)


def mask_column(values: pd.Series, names: pd.Series | None = None) -> pd.Series:
    """Masked free text; where names are given, each row's own name is masked in its text too."""
    text = values.fillna("").astype(str)
    if names is not None:
        text = pd.Series(
            [
                t.replace(n, NAME_MASK) if n and len(n) >= 2 else t
                for t, n in zip(text, names.fillna(""), strict=True)
            ],
            index=text.index,
        )
    has_digits = text.str.contains(r"\d[\d\s-]{5,}\d", regex=True)
    text = text.where(~has_digits, text[has_digits].map(mask_text))
    return text.where(text != "", None)
