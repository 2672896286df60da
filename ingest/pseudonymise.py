"""Pseudonymisation at the door: keyed hashes for identifiers (free text is masked by `contracts.masking`)."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from contracts.masking import FULL_WIDTH_DIGITS, text_series

PSEUDONYM_SUFFIX = "_pid"

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
    values = values.str.translate(FULL_WIDTH_DIGITS)
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
    present = text_series(values).str.strip()
    codes, uniques = pd.factorize(present)
    distinct = pd.Series(uniques, dtype="object")
    canonical = _normalise(distinct, kind)
    hashed = np.array(_pseudonyms(canonical.tolist(), kind, key), dtype=object)
    hashed[(distinct.to_numpy() == "") | (canonical.to_numpy() == "")] = None
    return pd.Series(hashed[codes], index=values.index, dtype="str")
