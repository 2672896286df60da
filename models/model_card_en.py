"""The model card's wording in English: one phrase per key, the same keys as the other language."""

from __future__ import annotations

TEXT: dict[str, str] = {
    "title": "# Model card: {model_name} ({version}, {as_of})",
    "not_registered": "not registered yet",
    "meta": (
        "- Version: {version}\n"
        "- Training date: {as_of} (only data known before this date was used)\n"
        "- Model: {estimator}, calibrated with {calibration}\n"
        "- Predicts: whether an open dispute escalates ({events}) within {horizon} days"
    ),
    "list_sep": ", ",
    "h_about": "## Who this is about and what it is for",
    "about": (
        "This card explains the model behind the daily list of disputes that mediators look at first."
        " It is written for everyone concerned, including the people whose disputes are on the list.\n\n"
        "- What is scored is a dispute, never a person. Each open dispute gets a score: the calibrated"
        " probability that it escalates ({events}) within {horizon} days.\n"
        "- The score helps mediators decide which disputes to visit first. It is not a verdict on"
        " anyone, and it is never a reason for sanctions, surveillance or refusing a service.\n"
        "- A mediator decides what to do, and that decision is recorded with the case.\n"
        "- If something recorded about your dispute is wrong (its category, an event, a call), tell"
        " your mediator or the local people's mediation committee. The record is corrected at its"
        " source and the next daily list uses the correction."
    ),
    "h_not_for": "## Not for",
    "not_for": (
        "- judging, ranking or labelling individuals;\n"
        "- policing, law enforcement or keeping watch on people;\n"
        "- predicting crime or who might commit it;\n"
        "- any use outside mediation, such as benefits, permits, jobs, credit, schooling or housing.\n\n"
        "The model was neither built nor checked for these uses."
    ),
    "h_data": "## Data",
    "data": (
        "- Snapshots of the open disputes on {n_snapshots} dates from {first} to {last}:"
        " {n_rows} case-snapshots, of which {base_rate} escalated within {horizon} days.\n"
        "- Only what was known before {as_of} was used, including whether a dispute escalated.\n"
        "- Personal data is pseudonymised when it is loaded: names, phone numbers and ID numbers"
        " become keyed codes; phone and ID numbers and people's names are masked inside free text."
        " The model never sees them.\n"
        "- Protected attributes (ethnicity, religion and the like) are never features.\n"
        "- {audited}"
    ),
    "used_and_audited": "The model's features include {used}; the fairness audit below checks {audited}.",
    "audited_only": "The fairness audit below checks {audited}.",
    "and": " and ",
    "h_checked": "## How it was checked",
    "checked": (
        "Rolling-origin temporal validation with {n_folds} folds: each time, the model was trained"
        " on earlier data only and tested on a later date it had never seen ({dates}). Figures are"
        " the mean ± standard deviation over those dates. The baseline is a simple rule a mediator"
        " could apply by hand: disputes with the most recent hotline calls first."
    ),
    "col_measure": "measure",
    "col_model": "model",
    "col_rule": "rule",
    "m_precision_at_k": "Precision in the top {top} (share of listed disputes that escalated)",
    "m_recall_at_k": "Recall in the top {top} (share of all escalations that were listed)",
    "m_precision_at_list_k": "Precision in the first {k} rows",
    "m_recall_at_list_k": "Recall in the first {k} rows",
    "m_roc_auc": "ROC AUC (ranking quality; 0.5 is chance)",
    "m_average_precision": "Average precision",
    "m_brier": "Brier score (lower is better)",
    "m_ece": "Expected calibration error, ECE (lower is better)",
    "lift": "In the top {top}, the model's precision is {lift} times the rule's.",
    "grid_intro": (
        "Candidates compared (precision in the top {top}, mean ± standard deviation over the folds);"
        " the one chosen is marked:"
    ),
    "col_candidate": "candidate",
    "col_precision_top": "precision in the top {top}",
    "col_chosen": "chosen",
    "chosen_mark": "✓ chosen",
    "h_meaning": "## What the score means",
    "meaning": (
        "Scores are calibrated with {calibration}, so they read as probabilities: a score of {example}"
        " means that about 1 in {one_in} such disputes escalated within {horizon} days in the past."
        " Calibration error on the test dates (ECE): {ece}. A low score is no guarantee: some"
        " low-scored disputes still escalate.\n\n"
        "- high: score {high} or more\n"
        "- medium: from {medium} to below {high}\n"
        "- low: below {medium}"
    ),
    "h_groups": "## Performance by group",
    "groups": (
        "The same measures on parts of the test data. Small groups give unsteady figures;"
        " {missing} means a figure could not be computed (for example, no escalations in the group)."
    ),
    "col_kind": "split",
    "col_subset": "group",
    "col_n": "disputes",
    "col_positives": "escalated",
    "col_precision": "precision (top {top})",
    "col_recall": "recall (top {top})",
    "col_auc": "ROC AUC",
    "kind_new_vs_ongoing": "new vs ongoing",
    "kind_district": "district",
    "kind_category": "category",
    "subset_new": "new",
    "subset_ongoing": "ongoing",
    "no_rows": "No figures were provided.",
    "h_fairness": "## Fairness audit",
    "fairness": (
        "Each group is compared with all disputes together: its share put in the top {top} of the"
        " list, its recall (share of its escalations that were listed), its false positive rate"
        " (share of its non-escalating disputes that were listed) and its calibration (predicted ÷"
        " observed escalation rate). A ratio of 1.00 means the same as overall; brackets give the"
        " uncertainty interval. 'Flagged' names the measures where a group differs significantly.\n\n"
        "A different share listed can reflect a different risk: groups whose disputes escalate more"
        " often are expected to be listed more often. Recall, false positive rate and calibration"
        " are the checks of equal treatment."
    ),
    "col_attribute": "attribute",
    "col_group": "group",
    "col_share": "share listed (ratio)",
    "col_fair_recall": "recall (ratio [interval])",
    "col_fpr": "false positive rate (ratio [interval])",
    "col_pred_obs": "predicted / observed",
    "col_calibration": "calibration ratio [interval]",
    "col_status": "status",
    "status_ok": "no significant difference",
    "status_flagged": "flagged: {metrics}",
    "status_insufficient": "insufficient data, not assessed",
    "metric_share_listed": "share listed",
    "metric_recall": "recall",
    "metric_fpr": "false positive rate",
    "metric_calibration": "calibration",
    "insufficient": (
        "Insufficient data: {groups}. These groups had too few disputes or escalations for a"
        " reliable comparison. They were not assessed, so this audit says nothing about whether the"
        " model treats them fairly; they stay on the list of groups to watch."
    ),
    "group_label": "{attribute} {group}",
    "group_count": "{name} ({n} disputes, {positives} escalated)",
    "tally": "{n_groups} groups audited: {ok} without significant difference, {flagged} flagged,"
    " {insufficient} with insufficient data.",
    "verdict": "Verdict: {verdict}",
    "h_drivers": "## What drives scores",
    "drivers": (
        "The features the model relies on most: the mean size of their push on a dispute's score"
        " (absolute change in log-odds) over the test cases. They describe what the model uses,"
        " not what causes escalation."
    ),
    "col_feature": "feature",
    "col_described": "meaning",
    "col_detail": "window",
    "col_importance": "importance",
    "features_used": "The model uses {n} features; all are described in the feature dictionary.",
    "h_limits": "## Limits",
    "limits": (
        "- Past data encode past practice and reporting habits: districts where people call the"
        " hotline more often look riskier, whatever their real risk.\n"
        "- Escalations that were never recorded are invisible to the model, and so are the disputes"
        " that never reached the system.\n"
        "- Text cues are word lists: they miss dialect, irony and new ways of saying things.\n"
        "- The model is only as good as the recorded data: late, missing or wrong entries weaken it.\n"
        "- Performance was measured on later dates from the same source; it may not carry over to"
        " other cities or to changed ways of working.\n"
        "- Drift is watched: the list's inputs and results are monitored and the model is retrained"
        " and re-checked with this card."
    ),
    "h_contact": "## Contact and feedback",
    "contact": (
        "Questions, corrections and complaints go to your mediator, the local people's mediation"
        " committee or the judicial office (司法所); each request is logged and followed up."
        " Mediators who think a score is wrong should note why on the case: these notes are reviewed"
        " before the model is retrained."
    ),
}

EVENT_NAMES: dict[str, str] = {
    "violence": "violence",
    "group_incident": "a group incident",
    "litigation": "litigation",
    "lawsuit": "a lawsuit",
    "petition": "a petition",
}

CALIBRATION_NAMES: dict[str, str] = {
    "sigmoid": "sigmoid (Platt) scaling",
    "isotonic": "isotonic regression",
}

ATTRIBUTE_NAMES: dict[str, str] = {
    "district": "district",
    "category": "category",
    "new_vs_ongoing": "new vs ongoing",
}
