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


# Pseudonyms already made in a run, per identifier kind: the stripped cell -> its pseudonym (None: none).
Known = dict[str, dict[str, str | None]]
KNOWN_LIMIT = 500_000  # cells remembered per identifier kind before the memory starts afresh (~75 MB)


def pseudonymise_column(values: pd.Series, kind: str, key: bytes, known: Known | None = None) -> pd.Series:
    """Pseudonyms for a column of identifiers; empty cells, and cells with nothing of an identifier in
    them (a phone cell reading 不详), stay empty (missing).

    Each distinct value is normalised and hashed once, then mapped back to its rows; with `known` (kept
    by the caller across the batches of a run, for one key), only once in the run.
    """
    present = text_series(values).str.strip()
    codes, uniques = pd.factorize(present)
    distinct = np.asarray(uniques, dtype=object)
    remembered = None if known is None else known.setdefault(kind, {})
    if remembered is None:
        hashed = _pseudonymised(distinct, kind, key)
    else:
        hashed = np.array([remembered.get(value, _UNSEEN) for value in distinct], dtype=object)
        new = np.flatnonzero(hashed == _UNSEEN) if len(hashed) else np.zeros(0, dtype=np.int64)
        hashed[new] = _pseudonymised(distinct[new], kind, key)
        if len(remembered) + len(new) > KNOWN_LIMIT:
            remembered.clear()
        remembered.update(zip(distinct[new].tolist(), hashed[new].tolist(), strict=True))
    return pd.Series(hashed[codes], index=values.index, dtype="str")


_UNSEEN = object()


def _pseudonymised(distinct: np.ndarray, kind: str, key: bytes) -> np.ndarray:
    """Pseudonyms of distinct stripped cells; None where a cell holds no identifier."""
    canonical = _normalise(pd.Series(distinct, dtype="object"), kind)
    hashed = np.array(_pseudonyms(canonical.tolist(), kind, key), dtype=object)
    hashed[(distinct == "") | (canonical.to_numpy() == "")] = None
    return hashed
