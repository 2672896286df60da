"""The rule baseline a model has to beat: most case-linked hotline calls in the last 7 days."""

from __future__ import annotations

import numpy as np
import pandas as pd

RULE_FEATURE = "hotline_linked_calls_7d"
RULE_NAME = "rule_calls_7d"


def rule_scores(features: pd.DataFrame) -> np.ndarray:
    """Rule score per case: its number of case-linked hotline calls in the last 7 days."""
    return features[RULE_FEATURE].to_numpy(dtype=float)
