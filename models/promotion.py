"""The promotion gate: a new model replaces the champion only when measurably better and fair."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

NOISE_MULTIPLE = 2.0


@dataclass(frozen=True)
class Decision:
    """Whether the new model becomes champion, and why, in one sentence."""

    promote: bool
    reason: str


def paired_gain(challenger: pd.Series, champion: pd.Series) -> tuple[float, float, int]:
    """Mean and standard error of the per-date difference in precision at the top, over shared dates."""
    both = pd.concat([challenger.rename("new"), champion.rename("old")], axis=1, join="inner").dropna()
    differences = (both["new"] - both["old"]).to_numpy(dtype=float)
    if len(differences) == 0:
        return float("nan"), float("nan"), 0
    spread = float(np.std(differences, ddof=1)) / math.sqrt(len(differences)) if len(differences) > 1 else 0.0
    return float(differences.mean()), spread, len(differences)


def decide(
    challenger: pd.Series,
    champion: pd.Series | None,
    margin: float,
    fairness_passed: bool,
    fairness_reason: str,
) -> Decision:
    """Promote when the fairness check passes and the challenger is measurably better on the same dates.

    `challenger` and `champion` hold precision at the top per held-out date. Measurably better: the
    mean per-date gain reaches the margin and is at least twice its standard error (a gain the
    dates' noise could not produce on its own). The first model is promoted whatever its audit says
    (no list at all helps no one), but a failed audit is stated in the decision, the model card and
    the run's output, so a person reviews it before relying on its lists.
    """
    if champion is None:
        if fairness_passed:
            return Decision(True, f"promoted as the first champion; {fairness_reason}")
        return Decision(
            True,
            f"promoted as the first champion although the fairness check failed ({fairness_reason}); "
            "review the model card's fairness section before relying on its lists",
        )
    if not fairness_passed:
        return Decision(False, f"kept the champion: the fairness check failed ({fairness_reason})")
    gain, error, n = paired_gain(challenger, champion)
    facts = (
        f"precision at the top {challenger.mean():.3f} vs champion {champion.mean():.3f} "
        f"on the same {n} dates (gain {gain:+.3f} ± {error:.3f}, margin {margin:.3f})"
    )
    if n and gain >= margin and gain >= NOISE_MULTIPLE * error:
        return Decision(True, f"promoted: {facts}; {fairness_reason}")
    return Decision(False, f"kept the champion: {facts}: not measurably better")
