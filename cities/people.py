"""Who reports and calls in the Hawkes city: names, phones, ID numbers, the callers of each case."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cities.vocabulary import GIVEN, SURNAMES

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))
_PREFIXES = np.array(["133", "139", "150", "158", "177", "181", "187", "199"])


def names(rng: np.random.Generator, size: int) -> np.ndarray:
    """Chinese personal names (surname + one or two given characters)."""
    surname = rng.choice(np.array(SURNAMES), size)
    first = rng.choice(np.array(GIVEN), size)
    second = np.where(rng.random(size) < 0.6, rng.choice(np.array(GIVEN), size), "")
    return (surname.astype(object) + first.astype(object) + second.astype(object)).astype(object)


def phones(rng: np.random.Generator, size: int) -> np.ndarray:
    """Mobile numbers, 11 digits."""
    body = rng.integers(0, 100_000_000, size)
    return np.array(
        [f"{p}{b:08d}" for p, b in zip(rng.choice(_PREFIXES, size), body, strict=True)], dtype=object
    )


def id_numbers(rng: np.random.Generator, size: int) -> np.ndarray:
    """18-character resident ID numbers with a valid check character (area 3610xx, born 1950-2000)."""
    digits = np.column_stack(
        [
            np.tile([3, 6, 1, 0], (size, 1)),
            rng.integers(0, 10, (size, 2)),
            _date_digits(rng, size),
            rng.integers(0, 10, (size, 3)),
        ]
    )
    check = _ID_CHECK[(digits * _ID_WEIGHTS).sum(axis=1) % 11]
    return np.array(["".join(map(str, row)) + c for row, c in zip(digits, check, strict=True)], dtype=object)


def _date_digits(rng: np.random.Generator, size: int) -> np.ndarray:
    year = rng.integers(1950, 2001, size)
    month = rng.integers(1, 13, size)
    day = rng.integers(1, 29, size)
    text = [f"{y:04d}{m:02d}{d:02d}" for y, m, d in zip(year, month, day, strict=True)]
    return np.array([[int(ch) for ch in t] for t in text])


@dataclass(frozen=True)
class Callers:
    """The people who call about each case: caller rows grouped by case, each with 1-3 phones."""

    first: np.ndarray  # per case: index of its first caller (the reporter)
    count: np.ndarray  # per case: how many callers
    name: np.ndarray  # per caller
    phones: np.ndarray  # (callers, 3): phone numbers (a caller's extra phones may repeat the first)
    phone_count: np.ndarray  # per caller: how many distinct phones they use


def draw_callers(rng: np.random.Generator, parties: np.ndarray, extra_callers: float) -> Callers:
    """Per case: the reporter plus other parties who call (more with more parties)."""
    count = 1 + np.minimum(parties - 1, rng.poisson(extra_callers * np.log1p(parties)))
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    total = int(count.sum())
    phone_count = 1 + (rng.random(total) < 0.3) + (rng.random(total) < 0.1)
    return Callers(first, count, names(rng, total), phones(rng, total * 3).reshape(total, 3), phone_count)


def pick_phones(
    rng: np.random.Generator, callers: Callers, case: np.ndarray, new_person: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(name, phone) of each call about a case: the reporter 60% of the time, else another caller; a
    caller's main phone 75% of the time, else another of theirs; new_person calls come from a stranger."""
    other = rng.integers(0, np.maximum(callers.count[case], 1))
    who = callers.first[case] + np.where(rng.random(len(case)) < 0.6, 0, other)
    slot = np.where(rng.random(len(case)) < 0.75, 0, rng.integers(0, callers.phone_count[who]))
    name = callers.name[who].copy()
    phone = callers.phones[who, slot].copy()
    fresh = np.flatnonzero(new_person)
    name[fresh], phone[fresh] = names(rng, len(fresh)), phones(rng, len(fresh))
    return name, phone
