"""Phrase templates filled row by row: render, a random template per group, snippets appended."""

from __future__ import annotations

from collections.abc import Sequence
from string import Formatter

import numpy as np


def render(templates: Sequence[str], picks: np.ndarray, fields: dict[str, np.ndarray]) -> np.ndarray:
    """templates[picks[i]] filled with row i of fields (fields a template does not use are ignored)."""
    out = np.empty(len(picks), dtype=object)
    for t in np.unique(picks).tolist():
        rows = np.flatnonzero(picks == t)
        names = list(dict.fromkeys(name for _, name, _, _ in Formatter().parse(templates[t]) if name))
        positional = templates[t]
        for i, name in enumerate(names):
            positional = positional.replace("{" + name + "}", "{" + str(i) + "}")
        columns = [np.asarray(fields[name], dtype=object)[rows].tolist() for name in names]
        out[rows] = (
            [positional.format(*values) for values in zip(*columns, strict=True)] if names else positional
        )
    return out


def grouped_templates(
    rng: np.random.Generator, groups: np.ndarray, table: Sequence[Sequence[str]]
) -> tuple[tuple[str, ...], np.ndarray]:
    """All templates flattened, and for each row a random template of its group."""
    counts = np.array([len(t) for t in table])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    picks = offsets[groups] + (rng.random(len(groups)) * counts[groups]).astype(np.int64)
    return tuple(t for group in table for t in group), picks


def append_where(
    rng: np.random.Generator,
    texts: np.ndarray,
    mask: np.ndarray,
    snippets: Sequence[str],
    fields: dict[str, np.ndarray],
) -> np.ndarray:
    """texts with a random snippet (filled from fields) appended on rows where mask holds."""
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return texts
    picks = rng.integers(0, len(snippets), rows.size)
    extra = render(snippets, picks, {k: np.asarray(v, dtype=object)[rows] for k, v in fields.items()})
    out = texts.copy()
    out[rows] = [a + b for a, b in zip(texts[rows], extra, strict=True)]
    return out
