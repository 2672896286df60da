"""How a model's lists are judged, in the names training writes into a model's metadata and its readers (the
dashboard, cards) read back: the scorers compared, the metrics reported, and which listed cases are new."""

from __future__ import annotations

MODEL_NAME = "model"
RULE_NAME = "rule"  # the rule baseline a model has to beat
# What validation reports per date and scorer, in reading order (cards, comparisons, the dashboard).
VALIDATION_METRICS: tuple[str, ...] = (
    "precision_at_k",
    "recall_at_k",
    "precision_at_list_k",
    "recall_at_list_k",
    "roc_auc",
    "average_precision",
    "brier",
    "ece",
)
# The summary's key of the model's precision at the top as a multiple of the rule's.
LIFT_KEY = f"lift_precision_at_k_over_{RULE_NAME}"
# A case opened fewer than this many days before a list's as-of instant is new on it, else ongoing.
NEW_CASE_DAYS = 7
