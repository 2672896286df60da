"""Grievance quality: do the emerging-grievance clusters find each city's true group grievances (issue 17)?

Cities of the demo simulator (`cities.demo`, whose callers name a grievance's thing as on a real
message board: short forms, place prefixes, building numbers, typos, calls naming no thing; with calls
naming generic words such as 整个小区 or 自来水公司, and things without an organisation suffix) are
ingested into a temporary home (no Prefect). For every day from the end of a warm-up to the morning after
the period, the day's clusters are built as the product builds them (`features.grievances.
grievance_clusters` with the product's settings: `grievance_config(Settings(...))`).

A cluster belongs to the true grievance (truth/grievances.csv) that more than half of its window's calls
come from, else to none; its calls are those the product keys to it (`features.grievances.cluster_calls`,
checked against the day's table). Per true grievance: the distinct clusters it is shown as over the
period (one cluster or several;
how many of them topics, the product's clusters of calls naming no thing), the keys its calls fall in and
the share of its calls in the main one, the days from its first call to its first appearance and to its
first surge (and how many days before its first escalation), the share of its active days (at least
`surge_min_callers` distinct callers among its calls in the window) on which it is in the day's top 10,
and whether it surged by the end. Per city: false surges (surge episodes, consecutive days, of clusters
belonging to no grievance) per month (and those of topics), and generic keys (things, not topics' labels,
ending with one of `cities.demo.GENERIC_THINGS`) in any day's top 10. The same cities with plainly
named grievances (`SimulationConfig.plain_grievances()`, the simulator before issue 17: the same calls at
the same times, each naming the thing by its full name) are the reference for the flag's timing.

    python -m bench.grievance_quality                       # 3 cities, 3,000 cases, 300 days: a few minutes
    python -m bench.grievance_quality --seeds 11,23 --grievances 6,6 --no-reference
    python -m bench.grievance_quality --topic-only 0.8 --no-reference --out DIR  # callers name little
    python -m bench.grievance_quality --render             # the md again from the json
    python -m bench.grievance_quality --merge DIR DIR ... --note TEXT  # one city per process, merged
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import REPO, code_state, machine
from cities.demo import FILE_NAMES, GENERIC_THINGS, SimulationConfig, simulate_city, write_city
from contracts.settings import Settings
from contracts.timeparse import as_of_instant
from features import grievances as product
from features.grievances import GrievanceConfig, grievance_clusters
from features.sources import Sources
from pipelines.configuration import grievance_config

TOP = 10  # the day's top clusters a user reads
TOPIC = "topic"  # the kind of the product's clusters of calls naming no thing
TARGET_ONE_CLUSTER = 0.95  # share of true grievances shown as exactly one cluster
TARGET_TOP_SHARE = 0.90  # share of each grievance's active days on which it is in the day's top 10
DAYS_PER_MONTH = 30.4375
DEFAULT_SEEDS = (11, 23, 37)
DEFAULT_GRIEVANCES = (6, 5, 4)
BENCH_KEY = "grievance-quality-benchmark-key-not-a-secret-0123456789"
JUDGED_COLUMNS = (
    "day",
    "rank",
    "cluster_id",
    "thing",
    "thing_kind",
    "district",
    "surge",
    "distinct_callers",
    "members",
    "grievance",
    "grievance_share",
    "generic",
)


# ---------------------------------------------------------------- the product's settings and keys


def product_config(settings: Settings) -> GrievanceConfig:
    """The product's grievance rule for the settings."""
    return grievance_config(settings)


def cluster_calls(known: Sources, instant: pd.Timestamp, config: GrievanceConfig) -> pd.DataFrame:
    """(call_id, cluster_id) of the window's calls, as the product keys them (`features.grievances.
    cluster_calls`)."""
    pairs = product.cluster_calls(known, instant, config)
    return pairs[["call_id", "cluster_id"]].astype({"call_id": str}).drop_duplicates(ignore_index=True)


# ---------------------------------------------------------------- judging clusters (pure)


def _canonical(things: pd.Series) -> pd.Series:
    return things.str.replace("有限责任公司", "公司", regex=False).str.replace(
        "有限公司", "公司", regex=False
    )


def is_generic(things: pd.Series, generic: Sequence[str] = GENERIC_THINGS) -> np.ndarray:
    """Whether each thing is a generic word rather than a name: it ends with one of `generic` (or its
    form with 有限公司 read as 公司, as the product keys it)."""
    endings = tuple(dict.fromkeys([*generic, *_canonical(pd.Series(list(generic), dtype=object))]))
    texts = things.astype(str)
    return (texts.str.endswith(endings) | _canonical(texts).str.endswith(endings)).to_numpy(dtype=bool)


def judged_clusters(clusters: pd.DataFrame, members: pd.DataFrame, grievance_of: pd.Series) -> pd.DataFrame:
    """The day's clusters in the product's order (rank 1 first) with their calls (`members`), the true
    grievance more than half of them come from (`grievance_of`: call_id -> grievance; 0 for none) and
    its share of them, and whether the thing is generic (a topic's label, words said, never is)."""
    owner = members["call_id"].map(grievance_of).fillna(0).astype(np.int64)
    counts = members.assign(grievance=owner.to_numpy()).groupby(["cluster_id", "grievance"]).size()
    totals = counts.groupby(level="cluster_id").sum()
    true = counts[counts.index.get_level_values("grievance") > 0].sort_values(ascending=False, kind="stable")
    best = true.reset_index(name="n").drop_duplicates("cluster_id").set_index("cluster_id")
    share = (best["n"] / totals.reindex(best.index)).reindex(clusters["cluster_id"]).fillna(0.0).to_numpy()
    grievance = best["grievance"].reindex(clusters["cluster_id"]).fillna(0).to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(clusters) + 1),
            "cluster_id": clusters["cluster_id"].to_numpy(dtype=object),
            "thing": clusters["thing"].to_numpy(dtype=object),
            "thing_kind": clusters["thing_kind"].to_numpy(dtype=object),
            "district": clusters["district"].to_numpy(dtype=object),
            "surge": clusters["surge"].to_numpy(dtype=bool),
            "distinct_callers": clusters["distinct_callers"].to_numpy(dtype=np.int64),
            "members": totals.reindex(clusters["cluster_id"]).fillna(0).to_numpy(dtype=np.int64),
            "grievance": np.where(share > 0.5, grievance, 0),
            "grievance_share": share,
            "generic": is_generic(clusters["thing"]) & (clusters["thing_kind"] != TOPIC).to_numpy(),
        }
    )


def active_days(calls: pd.DataFrame, days: Sequence[date], window_days: int, min_callers: int) -> list[date]:
    """The days on whose window (the `window_days` before the day's instant) a grievance's calls
    (`received_at`, `caller`: pseudonymised phone, missing for none) come from at least `min_callers`
    distinct callers."""
    out = []
    for day in days:
        instant = as_of_instant(day)
        inside = calls[
            (calls["received_at"] < instant)
            & (calls["received_at"] >= instant - pd.Timedelta(days=window_days))
        ]
        if inside["caller"].dropna().nunique() >= min_callers:
            out.append(day)
    return out


def _days_between(first: date | None, later: date | None) -> int | None:
    return None if first is None or later is None else (later - first).days


def _first_day(days: pd.Series) -> date | None:
    return min(days) if len(days) else None


def grievance_figures(
    info: dict[str, Any],
    calls: pd.DataFrame,
    judged: pd.DataFrame,
    members: pd.DataFrame,
    days: Sequence[date],
    config: GrievanceConfig,
) -> dict[str, Any]:
    """One true grievance's figures: `info` (grievance, thing, thing_kind, district, first_escalation_at,
    named_forms, topic_only_share), its calls (call_id, received_at, caller), every day's judged clusters
    (`judged_clusters` with a `day` column) and (day, call_id, cluster_id) `members` of the period."""
    g = int(info["grievance"])
    own = judged[judged["grievance"] == g]
    first_call = calls["received_at"].min().date() if len(calls) else None
    keyed = members[members["call_id"].isin(set(calls["call_id"]))].drop_duplicates(["call_id", "cluster_id"])
    per_key = keyed.groupby("cluster_id")["call_id"].nunique().sort_values(ascending=False, kind="stable")
    active = active_days(calls, days, config.window_days, config.surge_min_callers)
    on_top = set(own.loc[own["rank"] <= TOP, "day"])
    best_rank = own.groupby("day")["rank"].min()
    ranks = [float(best_rank.get(d, np.inf)) for d in active]
    median_rank = float(np.median(ranks)) if ranks else np.inf
    escalation = info.get("first_escalation_at")
    escalation_day = pd.Timestamp(escalation).date() if isinstance(escalation, str) and escalation else None
    first_surge = _first_day(own.loc[own["surge"], "day"])
    shown = own.groupby("thing").size()
    return {
        **info,
        "calls": len(calls),
        "first_call": first_call.isoformat() if first_call else None,
        "keys": len(per_key),
        "main_key_share": float(per_key.iloc[0] / len(calls)) if len(per_key) and len(calls) else 0.0,
        "clusters": int(own["cluster_id"].nunique()),
        "topic_clusters": int(own.loc[own["thing_kind"] == TOPIC, "cluster_id"].nunique()),
        "shown_as": shown.sort_values(ascending=False, kind="stable").index[:5].tolist(),
        "days_to_appear": _days_between(first_call, _first_day(own["day"])),
        "days_to_flag": _days_between(first_call, first_surge),
        "flag_before_escalation": _days_between(first_surge, escalation_day),
        "active_days": len(active),
        "top_share": (sum(d in on_top for d in active) / len(active)) if active else None,
        "median_rank": median_rank if np.isfinite(median_rank) else None,
        "flagged": first_surge is not None,
    }


def false_surges(judged: pd.DataFrame) -> pd.DataFrame:
    """Surge episodes (a cluster surging on consecutive days) of clusters belonging to no grievance: one
    row each with the thing, its kind, district, first day and days."""
    wrong = judged[judged["surge"] & (judged["grievance"] == 0)].sort_values(["cluster_id", "day"])
    if wrong.empty:
        columns = ("cluster_id", "thing", "thing_kind", "district", "first_day", "days")
        return pd.DataFrame({c: [] for c in columns})
    day_number = pd.to_datetime(pd.Series(wrong["day"].to_numpy())).map(pd.Timestamp.toordinal).to_numpy()
    same = wrong["cluster_id"].to_numpy()
    new = np.ones(len(wrong), dtype=bool)
    new[1:] = (same[1:] != same[:-1]) | (day_number[1:] - day_number[:-1] > 1)
    episode = np.cumsum(new)
    grouped = wrong.assign(episode=episode).groupby("episode")
    return pd.DataFrame(
        {
            "cluster_id": grouped["cluster_id"].first(),
            "thing": grouped["thing"].first(),
            "thing_kind": grouped["thing_kind"].first(),
            "district": grouped["district"].first(),
            "first_day": grouped["day"].min(),
            "days": grouped.size(),
        }
    ).reset_index(drop=True)


def generic_in_top(judged: pd.DataFrame) -> pd.DataFrame:
    """Generic keys in a day's top 10: thing, district, the days and the best rank."""
    top = judged[(judged["rank"] <= TOP) & judged["generic"]]
    grouped = top.groupby(["thing", "district"])
    return pd.DataFrame({"days": grouped.size(), "best_rank": grouped["rank"].min()}).reset_index()


# ---------------------------------------------------------------- one city


def bench_settings(home: Path) -> Settings:
    """The product's default settings on the bench's home."""
    return Settings(home=home, pseudonym_key=BENCH_KEY)


def ingested(config: SimulationConfig, folder: Path) -> tuple[Sources, pd.DataFrame, Settings]:
    """The city simulated, written and ingested into a fresh home under folder; its stored sources, its
    grievance truth and the settings."""
    from pipelines.runtime import ingest_keyed, load_sources, open_warehouse, pseudonym_key

    city = simulate_city(config)
    write_city(city, folder / "city")
    settings = bench_settings(folder / "home")
    key, _ = pseudonym_key(settings)
    ingest_keyed([folder / "city" / name for name in FILE_NAMES.values()], settings, key)
    return load_sources(open_warehouse(settings)), city.truth_grievances, settings


def grievance_calls(sources: Sources, truth: pd.DataFrame) -> pd.DataFrame:
    """The stored calls of the true grievances: call_id, grievance, received_at, caller."""
    records = truth[truth["record_kind"] == "hotline"]
    grievance_of = pd.Series(records["grievance"].to_numpy(), index=records["record_id"].astype(str))
    calls = sources.hotline[sources.hotline["call_id"].astype(str).isin(grievance_of.index)]
    ids = calls["call_id"].astype(str)
    return pd.DataFrame(
        {
            "call_id": ids.to_numpy(dtype=object),
            "grievance": ids.map(grievance_of).to_numpy(dtype=np.int64),
            "received_at": calls["received_at"].to_numpy(),
            "caller": calls["caller_phone_pid"].astype(object).to_numpy(),
        }
    )


def grievance_info(truth: pd.DataFrame) -> list[dict[str, Any]]:
    """Per true grievance: number, thing, kind, district, onset, first escalation, the distinct ways its
    calls name it and the share of its calls naming nothing."""
    out = []
    for g, rows in truth.groupby("grievance", sort=True):
        first = rows.iloc[0]
        calls = rows[rows["record_kind"] == "hotline"]
        named = calls["named_as"] if "named_as" in calls else pd.Series(first["thing"], index=calls.index)
        escalation = first["first_escalation_at"]
        out.append(
            {
                "grievance": int(g),
                "thing": str(first["thing"]),
                "thing_kind": str(first["thing_kind"]),
                "district": str(first["district"]),
                "onset": str(first["onset"]),
                "first_escalation_at": None if pd.isna(escalation) else str(escalation),
                "named_forms": int(named.dropna().nunique()),
                "topic_only_share": float(named.isna().mean()) if len(named) else 0.0,
            }
        )
    return out


def run_city(
    sources: Sources, truth: pd.DataFrame, days: Sequence[date], config: GrievanceConfig
) -> dict[str, Any]:
    """The day-by-day clusters of a city judged against its grievance truth: per grievance figures,
    false surges and generic keys in the top 10, and how often the recomputed calls missed a cluster."""
    calls = grievance_calls(sources, truth)
    grievance_of = pd.Series(calls["grievance"].to_numpy(), index=calls["call_id"].to_numpy())
    judged, members = [], []
    for day in days:
        instant = as_of_instant(day)
        clusters = grievance_clusters(sources, instant, config)
        pairs = cluster_calls(sources, instant, config)
        judged.append(judged_clusters(clusters, pairs, grievance_of).assign(day=day))
        members.append(pairs.assign(day=day))
    table = pd.concat(judged, ignore_index=True)[list(JUDGED_COLUMNS)]
    pairs = pd.concat(members, ignore_index=True)
    wrong = false_surges(table)
    months = len(days) / DAYS_PER_MONTH
    return {
        "days": [days[0].isoformat(), days[-1].isoformat()] if days else [],
        "evaluated_days": len(days),
        "grievances": [
            grievance_figures(
                info, calls[calls["grievance"] == info["grievance"]], table, pairs, days, config
            )
            for info in grievance_info(truth)
        ],
        "false_surges": len(wrong),
        "false_surges_of_topics": int((wrong["thing_kind"] == TOPIC).sum()),
        "false_surges_per_month": len(wrong) / months if months else None,
        "false_surge_days": int((table["surge"] & (table["grievance"] == 0)).sum()),
        "false_surge_things": wrong.groupby(["thing", "district"])
        .size()
        .sort_values(ascending=False)
        .head(10)
        .reset_index(name="episodes")
        .to_dict(orient="records"),
        "generic_in_top": generic_in_top(table).to_dict(orient="records"),
        "top_rows": int((table["rank"] <= TOP).sum()),
        "top_rows_of_no_grievance": int(((table["rank"] <= TOP) & (table["grievance"] == 0)).sum()),
        "clusters_without_calls": int((table["members"] == 0).sum()),
    }


def evaluation_days(config: SimulationConfig, warmup_days: int) -> list[date]:
    """Every day from the end of the warm-up to the morning after the period."""
    first = config.start + timedelta(days=min(warmup_days, config.days))
    return [first + timedelta(days=k) for k in range((config.start - first).days + config.days + 1)]


def measure_city(config: SimulationConfig, folder: Path, warmup_days: int) -> dict[str, Any]:
    """Simulate, ingest and judge one city."""
    clock = time.perf_counter()
    sources, truth, settings = ingested(config, folder)
    ingest_seconds = time.perf_counter() - clock
    result = run_city(sources, truth, evaluation_days(config, warmup_days), product_config(settings))
    return {
        "config": {k: str(v) for k, v in dataclasses.asdict(config).items()},
        **result,
        "seconds": {"ingest": ingest_seconds, "total": time.perf_counter() - clock},
    }


# ---------------------------------------------------------------- summary and targets (pure)


def paired_timing(cities: Sequence[dict[str, Any]], references: Sequence[dict[str, Any]]) -> list[dict]:
    """Days to the first flag per grievance of the same kind in a city and in its plain reference (the
    same calls at the same times)."""
    out = []
    for city, reference in zip(cities, references, strict=True):
        plain = {g["grievance"]: g for g in reference["grievances"]}
        for g in city["grievances"]:
            other = plain.get(g["grievance"])
            if other is not None and other["thing_kind"] == g["thing_kind"]:
                out.append(
                    {
                        "seed": city["config"]["seed"],
                        "grievance": g["grievance"],
                        "thing": g["thing"],
                        "days_to_flag": g["days_to_flag"],
                        "reference_days_to_flag": other["days_to_flag"],
                    }
                )
    return out


def _no_later(days: int | None, reference: int | None) -> bool:
    """A flag (days, None: never) no later than the reference's."""
    return reference is None or (days is not None and days <= reference)


def overall(cities: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The figures over all cities' grievances, days and top 10s."""
    rows = [g for city in cities for g in city["grievances"]]
    shares = [g["top_share"] for g in rows if g["top_share"] is not None]
    months = sum(c["evaluated_days"] for c in cities) / DAYS_PER_MONTH

    def mean(values: Sequence[float]) -> float | None:
        return float(np.mean(values)) if len(values) else None

    return {
        "grievances": len(rows),
        "one_cluster_share": mean([g["clusters"] == 1 for g in rows]),
        "mean_clusters": mean([g["clusters"] for g in rows]),
        "mean_topic_clusters": mean([g.get("topic_clusters", 0) for g in rows]),
        "mean_main_key_share": mean([g["main_key_share"] for g in rows]),
        "min_top_share": min(shares) if shares else None,
        "mean_top_share": mean(shares),
        "flagged_share": mean([g["flagged"] for g in rows]),
        "false_surges_per_month": sum(c["false_surges"] for c in cities) / months if months else None,
        "topic_false_surges_per_month": (
            sum(c.get("false_surges_of_topics", 0) for c in cities) / months if months else None
        ),
        "generic_top_days": sum(r["days"] for c in cities for r in c["generic_in_top"]),
    }


def summary(cities: Sequence[dict[str, Any]], references: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The figures over all cities, over their plain references, and the issue's targets, met or not."""
    figures = overall(cities)
    pairs = paired_timing(cities, references) if references else []
    one, least, generic = figures["one_cluster_share"], figures["min_top_share"], figures["generic_top_days"]
    flagged = figures["flagged_share"] == 1.0
    no_later = sum(_no_later(p["days_to_flag"], p["reference_days_to_flag"]) for p in pairs)
    return {
        **figures,
        "reference": overall(references) if references else None,
        "paired_timing": pairs,
        "targets": {
            "one_cluster": {
                "value": one,
                "target": TARGET_ONE_CLUSTER,
                "met": one is not None and one >= TARGET_ONE_CLUSTER,
            },
            "top_10": {
                "value": least,
                "target": TARGET_TOP_SHARE,
                "met": least is not None and least >= TARGET_TOP_SHARE,
            },
            "no_generic_key": {"value": generic, "target": 0, "met": generic == 0},
            "flagged_no_later": {
                "value": f"{no_later}/{len(pairs)} no later than the plain reference, all flagged: {flagged}",
                "target": "every grievance flagged by the end, none later than on the plain simulator",
                "met": (flagged and no_later == len(pairs)) if pairs or not flagged else None,
            },
        },
    }


# ---------------------------------------------------------------- the report


def _num(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _seconds(figures: dict[str, Any]) -> float | None:
    runs = [*figures["cities"], *figures.get("references", [])]
    return float(sum(r["seconds"]["total"] for r in runs)) if all("seconds" in r for r in runs) else None


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _mark(met: bool | None) -> str:
    return "not judged (no plain reference)" if met is None else "met" if met else "**not met**"


COMPARED = {
    "grievances": "true grievances",
    "one_cluster_share": "share shown as exactly one cluster",
    "mean_clusters": "clusters per grievance, mean",
    "mean_topic_clusters": "of which topics (calls naming no thing), mean",
    "mean_main_key_share": "share of its calls in its main key, mean",
    "min_top_share": "share of active days in the top 10, worst",
    "mean_top_share": "share of active days in the top 10, mean",
    "flagged_share": "share flagged (surge) by the end",
    "false_surges_per_month": "false surges per month",
    "topic_false_surges_per_month": "of which topics, per month",
    "generic_top_days": "days × generic keys in a top 10",
}


def _comparison(s: dict[str, Any]) -> list[str]:
    """The figures on the message-board cities beside those on their plain references."""
    reference = s.get("reference") or {}
    lines = [
        "| over all cities | message board (default) | plain simulator (before issue 17) |",
        "|---|---:|---:|",
    ]
    for key, label in COMPARED.items():
        lines.append(f"| {label} | {_num(s.get(key))} | {_num(reference.get(key))} |")
    return lines


TARGET_LINES = {
    "one_cluster": "true grievances shown as exactly one cluster",
    "top_10": "each grievance in the day's top 10 on its active days (the worst)",
    "no_generic_key": "days × generic keys in a day's top 10",
    "flagged_no_later": "flag timing",
}


def render(figures: dict[str, Any]) -> str:
    """The markdown report from the json figures."""
    s = figures["summary"]
    lines = [
        "# Grievance quality: the product's clusters against the true group grievances",
        "",
        f"`{figures['command']}` on {figures['date']}, code {figures['code']['commit']}"
        + (" (with uncommitted changes)" if figures["code"]["uncommitted"] else "")
        + f", {figures['machine']['cpu_model']}"
        + f" ({_num(_seconds(figures), 0)} s for the cities and their references)."
        + (f" Note: {figures['code']['note']}." if figures["code"].get("note") else ""),
        "",
        f"{_count(len(figures['cities']), 'city', 'cities')} of the demo simulator, "
        f"{figures['settings']['cases']:,} cases and {figures['settings']['days']} days each, callers "
        "naming things as on a message board"
        + (
            f" ({topic_only:.0%} of a grievance's calls naming no thing)"
            if (topic_only := figures["settings"].get("topic_only")) is not None
            else ""
        )
        + "; every day from day "
        f"{figures['settings']['warmup_days']} to the morning after the period judged with the "
        "product's grievance settings. A cluster belongs to the true grievance more than half of its calls "
        "come from.",
        "",
        "## Targets (issue 17)",
        "",
        "| target | value | goal | |",
        "|---|---|---|---|",
    ]
    for name, target in s["targets"].items():
        value = target["value"]
        shown = f"{value:.0%}" if isinstance(value, float) else str(value)
        goal = target["target"]
        goal_text = f"≥ {goal:.0%}" if isinstance(goal, float) else (f"{goal}" if goal != 0 else "0")
        lines.append(f"| {TARGET_LINES[name]} | {shown} | {goal_text} | {_mark(target['met'])} |")
    lines += ["", *_comparison(s), ""]
    lines += [
        "## Per true grievance",
        "",
        "| seed | # | kind | thing (district) | calls | forms | topic only | keys | main key | "
        "clusters (topics) | shown as | days to appear | days to flag | plain: to flag | "
        "flag before escalation | active days | in top 10 | median rank | flagged |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    plain = {(p["seed"], p["grievance"]): p["reference_days_to_flag"] for p in s["paired_timing"]}
    for city in figures["cities"]:
        seed = city["config"]["seed"]
        for g in city["grievances"]:
            lines.append(
                f"| {seed} | {g['grievance']} | {g['thing_kind']} | {g['thing']} ({g['district']}) | "
                f"{g['calls']} | {g['named_forms']} | {g['topic_only_share']:.0%} | {g['keys']} | "
                f"{g['main_key_share']:.0%} | {g['clusters']} ({g.get('topic_clusters', 0)}) | "
                f"{' / '.join(g['shown_as'][:3]) or '–'} | "
                f"{_num(g['days_to_appear'])} | {_num(g['days_to_flag'])} | "
                f"{_num(plain.get((seed, g['grievance'])))} | {_num(g['flag_before_escalation'])} | "
                f"{g['active_days']} | {_num(g['top_share'])} | {_num(g.get('median_rank'), 1)} | "
                f"{'yes' if g['flagged'] else 'no'} |"
            )
    lines += [
        "",
        "## False surges and generic keys per city",
        "",
        "| seed | days | false surges (topics) | per month | surge-days | top-10 rows of no grievance | "
        "generic keys in a top 10 (days) | clusters without calls |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for city in figures["cities"]:
        generic = ", ".join(f"{r['thing']} {r['district']} ({r['days']})" for r in city["generic_in_top"][:6])
        lines.append(
            f"| {city['config']['seed']} | {city['evaluated_days']} | {city['false_surges']} "
            f"({city.get('false_surges_of_topics', 0)}) | "
            f"{_num(city['false_surges_per_month'])} | {city['false_surge_days']} | "
            f"{city['top_rows_of_no_grievance']}/{city['top_rows']} | {generic or 'none'} | "
            f"{city['clusters_without_calls']} |"
        )
    things = [
        f"{r['thing']} ({r['district']}, {r['episodes']})"
        for c in figures["cities"]
        for r in c["false_surge_things"]
    ]
    if things:
        lines += ["", "False surges, most frequent things (episodes): " + "; ".join(things[:12]) + "."]
    lines += [
        "",
        "Keys: the distinct clusters (district, key) the grievance's calls are keyed to over the period; "
        "main key: the share of its calls in the most frequent one; clusters: the distinct clusters of the "
        "days' tables that belong to it (topics: clusters of calls naming no thing, shown by their label); "
        "days to appear / flag: from its first call to the first day it is "
        "in the table / surges (plain: the same city named plainly); flag before escalation: days from its "
        "first surge to its first escalation; active days: days with at least `surge_min_callers` distinct "
        "callers among its calls in the window; median rank: of its best cluster on its active days (– when "
        "absent on most). Clusters without calls: day-table rows whose calls the bench could not find (the "
        "bench's recomputation of the product's keys has drifted when this is not 0).",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- command line


def merged(runs: Sequence[dict[str, Any]], note: str | None = None) -> dict[str, Any]:
    """The figures of runs of the same settings but their seeds and grievances (one process per city,
    `--out DIR` each) as one run: their cities and references in order, the summary over all, the first
    run's machine and code (with `note` saying how they were run)."""
    first = runs[0]
    fixed = {k: v for k, v in first["settings"].items() if k not in ("seeds", "grievances")}
    for run in runs[1:]:
        other = {k: v for k, v in run["settings"].items() if k not in ("seeds", "grievances")}
        if other != fixed or run["code"]["fingerprint"] != first["code"]["fingerprint"]:
            raise ValueError("runs of different settings or code cannot be merged")
    cities = [c for run in runs for c in run["cities"]]
    references = [c for run in runs for c in run["references"]]
    seeds = [s for run in runs for s in run["settings"]["seeds"]]
    grievances = [int(city["config"]["grievances"]) for city in cities]  # what each city was run with
    return {
        **first,
        "command": "python -m bench.grievance_quality"
        + (
            ""
            if seeds == list(DEFAULT_SEEDS) and grievances == list(DEFAULT_GRIEVANCES)
            else f" --seeds {','.join(map(str, seeds))} --grievances {','.join(map(str, grievances))}"
        ),
        "settings": {**first["settings"], "seeds": seeds, "grievances": grievances},
        "cities": cities,
        "references": references,
        "summary": summary(cities, references),
        "code": {**first["code"], **({"note": note} if note else {})},
    }


def city_configs(
    seeds: Sequence[int], grievances: Sequence[int], cases: int, days: int, topic_only: float | None = None
) -> list[SimulationConfig]:
    """One city per seed, with the given numbers of grievances (cycled) and the default naming (or
    `topic_only`, the share of a grievance's calls naming no thing)."""
    shares = {} if topic_only is None else {"grievance_topic_only": topic_only}
    return [
        SimulationConfig(
            seed=seed, n_cases=cases, days=days, grievances=grievances[i % len(grievances)], **shares
        )
        for i, seed in enumerate(seeds)
    ]


def _integers(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def main(argv: Sequence[str] | None = None) -> None:
    """Run the cities (and their plain references) and write bench/grievance_quality.md and .json."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", default=",".join(map(str, DEFAULT_SEEDS)), help="one city per seed")
    parser.add_argument(
        "--grievances", default=",".join(map(str, DEFAULT_GRIEVANCES)), help="grievances per city (cycled)"
    )
    parser.add_argument("--cases", type=int, default=3_000)
    parser.add_argument("--days", type=int, default=300)
    parser.add_argument("--warmup-days", type=int, default=56, help="days before the first judged day")
    parser.add_argument(
        "--topic-only", type=float, default=None, help="share of a grievance's calls naming no thing (0.15)"
    )
    parser.add_argument("--no-reference", action="store_true", help="skip the plainly named reference cities")
    parser.add_argument("--work-dir", type=Path, default=None, help="folder for the cities and homes (kept)")
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    parser.add_argument("--render", action="store_true", help="only rewrite the md from the json")
    parser.add_argument(
        "--merge", type=Path, nargs="+", default=None, help="merge the json of these --out folders into --out"
    )
    parser.add_argument("--note", default=None, help="with --merge: how the runs were made")
    args = parser.parse_args(argv)
    json_path, md_path = args.out / "grievance_quality.json", args.out / "grievance_quality.md"
    if args.merge:
        runs = [json.loads((d / "grievance_quality.json").read_text(encoding="utf-8")) for d in args.merge]
        figures = merged(runs, args.note)
        args.out.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    if args.render or args.merge:
        md_path.write_text(render(json.loads(json_path.read_text(encoding="utf-8"))), encoding="utf-8")
        return
    configs = city_configs(
        _integers(args.seeds), _integers(args.grievances), args.cases, args.days, args.topic_only
    )
    cities, references = [], []
    with tempfile.TemporaryDirectory(prefix="fengqiao-grievance-quality-") as scratch:
        work = args.work_dir or Path(scratch)
        for config in configs:
            cities.append(measure_city(config, work / f"city-{config.seed}", args.warmup_days))
            print(json.dumps({"seed": config.seed, "seconds": cities[-1]["seconds"]}), flush=True)
            if not args.no_reference:
                plain = config.plain_grievances()
                references.append(measure_city(plain, work / f"plain-{config.seed}", args.warmup_days))
    figures = {
        "command": " ".join(["python -m bench.grievance_quality", *(sys.argv[1:] if argv is None else argv)]),
        "date": date.today().isoformat(),
        "settings": {
            "seeds": list(_integers(args.seeds)),
            "grievances": list(_integers(args.grievances)),
            "cases": args.cases,
            "days": args.days,
            "warmup_days": args.warmup_days,
            "topic_only": args.topic_only,
            "product_config": dataclasses.asdict(product_config(bench_settings(Path(scratch)))),
            "keys_from": "features.grievances.cluster_calls",
        },
        "cities": cities,
        "references": references,
        "summary": summary(cities, references),
        "machine": machine(),
        "code": code_state(("features", "pipelines", "ingest", "cities", "bench")),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    md_path.write_text(render(figures), encoding="utf-8")
    print(render(figures))


if __name__ == "__main__":
    main()
