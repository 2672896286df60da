"""Which candidate each call is linked to (its best, when the confidence reaches the threshold) and the
evidence written with the link (signals, named things, categories and figures; never a phone or a
person's name)."""

from __future__ import annotations

import numpy as np

from features.link_arrays import equal_pairs
from features.link_candidates import Block
from features.link_inputs import LinkInputs
from features.link_scoring import block_scores, confidence
from features.link_signals import signals_at


def best_candidates(linker: LinkInputs, blocks: list[Block]) -> dict[str, np.ndarray]:
    """Per call with a candidate whose confidence reaches the threshold: its best candidate (the first in
    case order on a tie), the confidence, the runner-up's, the other candidates and the pair's signals."""
    found: dict[str, list[np.ndarray]] = {}
    for block in blocks:
        z = block_scores(block, linker)
        rows = np.arange(len(block.calls))
        best = z.argmax(axis=1)
        z1 = z[rows, best]
        z[rows, best] = -np.inf
        chance, runner_up = confidence(z1, z.max(axis=1))
        keep = chance >= linker.config.threshold
        row, column = rows[keep], best[keep]
        values = {
            "call": block.calls[row],
            "case": block.cases[column],
            "confidence": chance[keep],
            "runner_up": runner_up[keep],
            "others": block.valid[row].sum(axis=1) - 1,
            **signals_at(linker, block, row, column),
        }
        for name, value in values.items():
            found.setdefault(name, []).append(value)
    return {name: np.concatenate(parts) for name, parts in found.items()}


def evidence(linker: LinkInputs, chosen: dict[str, np.ndarray], shared: np.ndarray) -> list[str]:
    """Short text naming the signals behind each chosen link (`best_candidates`; never a phone or a
    name)."""
    call, case = chosen["call"], chosen["case"]
    if linker.call_town is not None:
        same_town = (linker.call_town[call] >= 0) & (linker.call_town[call] == linker.case_town[case])
    else:
        same_town = np.zeros(len(call), dtype=bool)
    width = max(len(linker.cases), 1)
    left, right = equal_pairs(call * width + case, shared[:, 0] * width + shared[:, 1])
    names: list[list[str]] = [[] for _ in range(len(call))]
    for link, name in zip(left.tolist(), linker.thing_names[shared[right, 2]].tolist(), strict=True):
        names[link].append(name)
    listed = ["、".join(sorted(n)[: linker.config.evidence_things]) for n in names]
    hotline, dispute = linker.hotline_category[call], linker.dispute_category[case]
    columns = ("same_reporter", "same_linked_caller", "category", "cosine", "closed", "others", "runner_up")
    lines = []
    for i, (reporter, linked_caller, category, cosine, closed, others, runner_up) in enumerate(
        zip(*(chosen[name].tolist() for name in columns), strict=True)
    ):
        parts = ["same district+town" if same_town[i] else "same district"]
        if reporter:
            parts.append("same phone as the case's reporter")
        elif linked_caller:
            parts.append("same caller as a call linked to the case")
        if listed[i]:
            parts.append(f"shared: {listed[i]}")
        if category > 0:
            parts.append(f"category {hotline[i]}~{dispute[i]}")
        elif category < 0:
            parts.append(f"category {hotline[i]}≠{dispute[i]}")
        parts.append(f"char n-gram cosine {cosine:.2f}")
        if closed:
            parts.append("case closed at the call's time")
        if others > 0:
            parts.append(f"{others} other candidate(s), next {runner_up:.2f}")
        lines.append("; ".join(parts))
    return lines
