"""A fingerprint of a set of record versions that does not depend on their order, so that the store can
be read in its own order (no sort) and in chunks: per kind, the count of (record_key, row_hash) pairs and
the sum modulo 2**64 of their 64-bit hashes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

KINDS = ("cases", "events", "hotline")  # the order the kinds enter the digest
_MODULUS = 2**64


@dataclass(frozen=True)
class VersionSum:
    """How many record versions and the sum of their hashes (`pandas.util.hash_pandas_object` of the
    record_key and row_hash), modulo 2**64."""

    count: int = 0
    total: int = 0

    def __add__(self, other: VersionSum) -> VersionSum:
        return VersionSum(self.count + other.count, (self.total + other.total) % _MODULUS)


def version_sum(pairs: pd.DataFrame) -> VersionSum:
    """The `VersionSum` of a frame's (record_key, row_hash) rows, whatever their order."""
    hashes = pd.util.hash_pandas_object(pairs[["record_key", "row_hash"]].astype(object), index=False)
    return VersionSum(len(pairs), int(hashes.to_numpy().sum(dtype=np.uint64)))  # numpy wraps modulo 2**64


def fingerprint(sums: Mapping[str, VersionSum]) -> str:
    """The hex SHA-256 of each kind's name, count and sum, in KINDS order."""
    digest = hashlib.sha256()
    for kind in KINDS:
        found = sums[kind]
        digest.update(f"{kind}:{found.count}:{found.total};".encode())
    return digest.hexdigest()
