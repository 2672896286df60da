"""How unusual a grievance cluster's week is: its distinct callers in the window against its usual level.

`features.grievances` keys each call's mentions to a cluster (`gid`) and numbers the windows of the
lookback (`block`: 0 the window, the `window_days` before the instant; 1 the window before it ...).
A cluster is measured by its distinct callers (pseudonymised phones, else the pseudonymised account or
name, as on a message board; a call with neither counts as a call, not a caller), which, unlike calls, a
few insistent callers cannot inflate. Its usual level is

    usual = max(own, peer, min_usual)

over the baseline: the `baseline_windows` windows before a guard band of `guard_windows` windows (by
default the window just before is left out, as in the CDC's EARS C2 method, so a grievance that began
last week does not raise its own bar).

- `own` is the thing's **mean** distinct callers over the baseline windows (0 for a window it was not
  named in), **leaving out the windows it surged in**: those with at least `surge_min_callers` callers
  and a Poisson tail below `surge_p` against the larger of its median window and `min_usual`. A
  grievance still named by many callers after its peak is judged by its usual weeks, not by its peak
  (the plain mean would hide it), while a thing one or two callers name most weeks keeps its mean (a
  median would underestimate it, and make such weeks of seven callers surges).
- `peer` is the place's and category's level: over the baseline, the distinct callers per (thing,
  window) of the district's **other** things named in calls of the cluster's category (the window's
  most frequent hotline category; for a topic, the district's other topics in calls of that category),
  summed and divided by (number of such things x baseline windows). The cluster itself is left out, so a
  grievance of the baseline weeks does not raise its own peers' level.

The upper tail p = P(N >= callers) of a Poisson count N with mean `usual` says how unusual the window
is. A cluster with at least `min_callers` distinct callers is **shown** when p < `emerging_p`, or when it
is **new**: no call named it before the window, in the guard band or the baseline (a thing nobody named
for weeks that several people name now is how a grievance starts, before it can be unusual against a
level of one caller a week), or when it **surged the week before**: its distinct callers in the prior
window would have been a surge against the same usual level (a grievance is followed while it dies
down, not dropped the week its callers fall back). It is a **surge** when it also has at least
`surge_min_callers` callers and p < `surge_p`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd
from scipy import special

TOPIC = "topic"  # the kind of a cluster of calls naming no thing (features.grievance_topics)


class LevelRule(Protocol):
    """The windows and thresholds the levels are measured with (`features.grievances.GrievanceConfig`)."""

    @property
    def min_callers(self) -> int: ...
    @property
    def guard_windows(self) -> int: ...
    @property
    def baseline_windows(self) -> int: ...
    @property
    def min_usual(self) -> float: ...
    @property
    def surge_min_callers(self) -> int: ...
    @property
    def surge_p(self) -> float: ...


class EmergingRule(LevelRule, Protocol):
    """A level rule with the tail below which a cluster's window is unusual (`emerging_p`)."""

    @property
    def emerging_p(self) -> float: ...


def window_counts(mentions: pd.DataFrame, rule: LevelRule) -> pd.DataFrame:
    """Per cluster (gid index) with at least `min_callers` distinct callers in the window: calls,
    distinct callers and new callers (not naming it before the window) in the window, calls and distinct
    callers in the prior window, its own level (`own_levels`), whether it is new (no call named it
    before the window) and its first mention. `mentions`: gid, block, caller (None when unknown) and
    received_at of every call's mention."""
    with_caller = mentions[mentions["caller"].notna()]
    callers = with_caller.drop_duplicates(["gid", "block", "caller"])
    per_block = callers.groupby(["gid", "block"]).size().rename("n").reset_index()
    in_window = per_block[per_block["block"] == 0].set_index("gid")["n"]
    gids = in_window.index[in_window >= rule.min_callers]
    frame = pd.DataFrame(index=gids)
    frame["distinct_callers"] = in_window.reindex(gids)
    frame["calls"] = mentions[mentions["block"] == 0].groupby("gid").size().reindex(gids)
    newest = with_caller[with_caller["gid"].isin(gids)].groupby(["gid", "caller"])["block"].max()
    frame["new_callers"] = (newest == 0).groupby(level="gid").sum().reindex(gids).fillna(0).astype(np.int64)
    prior = mentions[mentions["block"] == 1].groupby("gid").size()
    frame["prior_calls"] = prior.reindex(gids).fillna(0).astype(np.int64)
    in_prior = per_block[per_block["block"] == 1].set_index("gid")["n"]
    frame["prior_callers"] = in_prior.reindex(gids).fillna(0).astype(np.int64)
    frame["own"] = own_levels(per_block[per_block["gid"].isin(gids)], gids, rule)
    frame["new"] = (mentions.groupby("gid")["block"].max().reindex(gids) == 0).to_numpy(dtype=bool)
    frame["first_seen"] = mentions.groupby("gid")["received_at"].min().reindex(gids)
    return frame


def own_levels(per_block: pd.DataFrame, gids: pd.Index, rule: LevelRule) -> np.ndarray:
    """Per gid: the mean of its distinct callers (`n` per gid and block; 0 for a window it has no row
    in) over the baseline windows it did not surge in (see the module docstring)."""
    blocks = range(rule.guard_windows + 1, rule.guard_windows + rule.baseline_windows + 1)
    baseline = per_block[per_block["block"].isin(blocks)]
    table = baseline.pivot_table(index="gid", columns="block", values="n", aggfunc="sum")
    counts = table.reindex(index=gids, columns=blocks).fillna(0.0).to_numpy(dtype=float)
    if counts.size == 0:
        return np.zeros(len(gids))
    robust = np.maximum(np.median(counts, axis=1), rule.min_usual)[:, None]
    left_out = surged(counts, robust, rule)
    return np.where(left_out, 0.0, counts).sum(axis=1) / (~left_out).sum(axis=1)


def peer_levels(mentions: pd.DataFrame, frame: pd.DataFrame, rule: LevelRule) -> np.ndarray:
    """Per cluster of `frame` (gid index; district, category, kind): distinct callers per (thing,
    baseline window) of the other things of its district named in calls of its category (of its other
    topics for a topic). `mentions`: gid, block, caller, district, category and kind of every mention."""
    baseline = mentions[(mentions["block"] > rule.guard_windows) & mentions["caller"].notna()]
    callers = baseline.drop_duplicates(["district", "category", "gid", "block", "caller"])
    per_thing = callers.groupby(["district", "category", callers["kind"] == TOPIC, "gid"]).size()
    groups = per_thing.groupby(level=[0, 1, 2]).agg(["sum", "size"])
    topic = frame["kind"] == TOPIC
    at = pd.MultiIndex.from_arrays([frame["district"], frame["category"], topic])
    total, things = (groups[c].reindex(at).fillna(0).to_numpy(dtype=float) for c in ("sum", "size"))
    own_at = pd.MultiIndex.from_arrays([frame["district"], frame["category"], topic, frame.index])
    own = per_thing.reindex(own_at).fillna(0).to_numpy(dtype=float)
    others = things - (own > 0)
    return np.where(others > 0, (total - own) / np.maximum(others, 1) / rule.baseline_windows, 0.0)


def upper_tail(callers: pd.Series | np.ndarray, usual: pd.Series | np.ndarray) -> np.ndarray:
    """P(N >= callers) for a Poisson count N with mean `usual`."""
    counts, mean = np.asarray(callers, dtype=float), np.asarray(usual, dtype=float)
    return np.where(counts > 0, special.pdtrc(np.maximum(counts - 1, 0), mean), 1.0)


def emerging(
    callers: pd.Series | np.ndarray, usual: pd.Series | np.ndarray, rule: EmergingRule
) -> np.ndarray:
    """Whether so many distinct callers are unusual against the usual level, as a cluster is shown:
    at least `min_callers` and a Poisson tail below `emerging_p`."""
    return (np.asarray(callers) >= rule.min_callers) & (upper_tail(callers, usual) < rule.emerging_p)


def surged(callers: pd.Series | np.ndarray, usual: pd.Series | np.ndarray, rule: LevelRule) -> np.ndarray:
    """Whether so many distinct callers are a surge against the usual level: at least
    `surge_min_callers` and a Poisson tail below `surge_p`."""
    return (np.asarray(callers) >= rule.surge_min_callers) & (upper_tail(callers, usual) < rule.surge_p)
