"""The promotion gate: a new model replaces the champion only when measurably better and fair."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """Whether the new model becomes champion, and why, in one sentence."""

    promote: bool
    reason: str


def decide(
    challenger_precision: float,
    champion_precision: float | None,
    margin: float,
    fairness_passed: bool,
    fairness_reason: str,
) -> Decision:
    """Promote when the fairness check passes and precision at the top beats the champion's by the margin.

    Both precisions are means over the same held-out dates. The first model is promoted whatever its
    audit says (no list at all helps no one), but a failed audit is stated in the decision, the model
    card and the run's output, so a person reviews it before relying on its lists.
    """
    if champion_precision is None:
        if fairness_passed:
            return Decision(True, f"promoted as the first champion; {fairness_reason}")
        return Decision(
            True,
            f"promoted as the first champion although the fairness check failed ({fairness_reason}); "
            "review the model card's fairness section before relying on its lists",
        )
    if not fairness_passed:
        return Decision(False, f"kept the champion: the fairness check failed ({fairness_reason})")
    gain = challenger_precision - champion_precision
    if gain >= margin:
        return Decision(
            True,
            f"promoted: precision at the top {challenger_precision:.3f} vs champion {champion_precision:.3f} "
            f"on the same dates (+{gain:.3f} >= margin {margin:.3f}); {fairness_reason}",
        )
    return Decision(
        False,
        f"kept the champion: precision at the top {challenger_precision:.3f} vs champion "
        f"{champion_precision:.3f} on the same dates ({gain:+.3f} < margin {margin:.3f})",
    )
