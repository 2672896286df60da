"""The rule baseline a model has to beat: most case-linked hotline calls in 7 days, then riskiest category."""

from __future__ import annotations

import numpy as np
import pandas as pd

RULE_FEATURE = "hotline_linked_calls_7d"
RULE_TIEBREAK = "context_category_rate"


def rule_scores(features: pd.DataFrame) -> np.ndarray:
    """Rule score per case: case-linked calls in the last 7 days, ties broken by the category's rate.

    The category's point-in-time escalation rate (a percentage) adds less than one call, so it
    only orders cases with the same number of calls.
    """
    calls = features[RULE_FEATURE].to_numpy(dtype=float)
    if RULE_TIEBREAK not in features:
        return calls
    rate = features[RULE_TIEBREAK].fillna(0.0).to_numpy(dtype=float)
    return calls + np.clip(rate, 0.0, 100.0) / 101.0
