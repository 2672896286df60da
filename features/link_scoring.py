"""The hand-set score z of candidate pairs from their signals, and the confidence of a call's best
candidate against "no case" and the runner-up (docs/design/call-linking.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.link_candidates import Block
from features.link_config import LinkConfig
from features.link_inputs import LinkInputs


def scores(signals: dict[str, np.ndarray] | pd.DataFrame, config: LinkConfig) -> np.ndarray:
    """The hand-set logistic-style score z of pairs given their SIGNALS (docs/design/call-linking.md; the
    linker computes the same on its blocks)."""
    reporter = np.asarray(signals["same_reporter"], dtype=bool)
    linked_caller = np.asarray(signals["same_linked_caller"], dtype=bool) & ~reporter
    category = np.asarray(signals["category"], dtype=float)
    return (
        config.bias
        + config.w_reporter_phone * reporter
        + config.w_linked_caller * linked_caller
        + config.w_text * np.asarray(signals["cosine"], dtype=float)
        + config.w_named * np.minimum(np.asarray(signals["n_named"], dtype=float), config.max_named)
        + config.w_amount * (np.asarray(signals["n_amount"], dtype=float) > 0)
        + config.w_category * (category > 0)
        + config.w_category_clash * (category < 0)
        + config.w_closed * np.asarray(signals["closed"], dtype=bool)
    )


def confidence(z1: np.ndarray, z2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logit over {no case (score 0), best (z1), runner-up (z2, -inf when none)}: the best's
    and the runner-up's probabilities (computed stably)."""
    top = np.maximum(np.maximum(z1, z2), 0.0)
    e0, e1, e2 = np.exp(-top), np.exp(z1 - top), np.exp(z2 - top)
    total = e0 + e1 + e2
    return e1 / total, e2 / total


def block_scores(block: Block, linker: LinkInputs) -> np.ndarray:
    """The score z of every cell of a block (-inf where the case is not a candidate): `scores` on the
    block's dense and rare signals."""
    config = linker.config
    table = linker.category_table
    by_category = config.w_category * (table > 0) + config.w_category_clash * (table < 0)
    z = (
        config.bias
        + config.w_text * block.cosine
        + by_category[block.category[0][:, None], block.category[1][None, :]]
        + config.w_closed * block.closed
    )
    width = len(block.cases)

    def add(keys: np.ndarray, values: np.ndarray | float) -> None:
        z[keys // width, keys % width] += values  # the keys are distinct

    reporter = block.cells["same_reporter"][0]
    add(reporter, config.w_reporter_phone)
    add(np.setdiff1d(block.cells["same_linked_caller"][0], reporter), config.w_linked_caller)
    keys, counts = block.cells["n_named"]
    add(keys, config.w_named * np.minimum(counts, config.max_named))
    add(block.cells["n_amount"][0], config.w_amount)
    z[~block.valid] = -np.inf
    return z
