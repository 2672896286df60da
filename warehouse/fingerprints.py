"""A fingerprint of a set of record versions that does not depend on their order, so that the store can
be read in its own order (no sort) and in chunks: per kind, the count of the versions and the sum modulo
2**64 of their row hashes (64 bits each, over every field of the record, its key's fields included: a
version's hash names it)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

KINDS = ("cases", "events", "hotline")  # the order the kinds enter the digest
_MODULUS = 2**64


@dataclass(frozen=True)
class VersionSum:
    """How many record versions and the sum of their row hashes, modulo 2**64."""

    count: int = 0
    total: int = 0

    def __add__(self, other: VersionSum) -> VersionSum:
        return VersionSum(self.count + other.count, (self.total + other.total) % _MODULUS)


def version_sum(row_hashes: Iterable[str]) -> VersionSum:
    """The `VersionSum` of row hashes (the store's 16-digit hex text), whatever their order."""
    text = "".join(row_hashes)
    count = len(text) // 16
    if len(text) != 16 * count:
        raise ValueError("row hashes are 16 hex digits each")
    values = np.frombuffer(bytes.fromhex(text), dtype=">u8")
    return VersionSum(count, int(values.sum(dtype=np.uint64)))  # numpy wraps modulo 2**64


def fingerprint(sums: Mapping[str, VersionSum]) -> str:
    """The hex SHA-256 of each kind's name, count and sum, in KINDS order."""
    digest = hashlib.sha256()
    for kind in KINDS:
        found = sums[kind]
        digest.update(f"{kind}:{found.count}:{found.total};".encode())
    return digest.hexdigest()


def records_fingerprint(frames: Sequence[pd.DataFrame]) -> str:
    """The `fingerprint` of exactly which record versions the frames hold (one per input kind, in KINDS
    order, each with the stored `row_hash` of its rows)."""
    sums = {kind: version_sum(frame["row_hash"].tolist()) for kind, frame in zip(KINDS, frames, strict=True)}
    return fingerprint(sums)
