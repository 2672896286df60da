"""How well the call linker finds the case behind a call without a case number, on simulated cities.

Simulates a city, the demo's (`cities.demo.simulate_city`) or a scenario of the Hawkes generator
(`cities.scenario.scenarios()`, `cities.hawkes.simulate_city`); both have a `truth_links` table that knows
the true case behind every call. Turns its exports into the stored, pseudonymised form with
`ingest.validate.validate_frame`, and links the calls of every `--every`-day window (the linker's
own 30-day window, so each call is judged once) with `features.call_linking.link_calls`: each call
is decided at the midnight after it became known, from what was known then (as the daily run decides
it). The truth is read only here, to score the links.

Figures, over the calls without a case_id whose true case exists (the "linkable" calls):
precision (correct links / all links, background calls linked to some case included), recall
(correct links / linkable calls), the reachable share (the true case was a candidate: known,
same district, opened before the call and open at it), a precision/recall table over thresholds,
what the phone rule alone finds (an unlinked call from a case's reporter phone, received since the
case opened, counted for every such case: `hotline_activity`'s rule), where the linkable calls go and
which signals their true pairs carried (`bench.linking_diagnosis`), and how a logistic regression fitted
on the same signals with the truth (even windows, scored on odd ones) compares with the hand-set
weights. Writes the city's section of bench/linking_quality.md and .json (keeping the other cities').

    python -m bench.linking_quality                           # demo: seed 7, 20,000 cases, 540 days
    python -m bench.linking_quality --scenario hawkes_calls   # 8,000 cases, 540 days
    python -m bench.linking_quality --cases 5000 --days 270   # quicker
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from bench.common import REPO, code_state, machine, markdown_table
from bench.linking_diagnosis import TRUE_PAIR_SIGNALS, call_outcomes, outcome_table
from features.call_linking import candidate_signals, link_calls
from features.link_config import LinkConfig
from features.link_scoring import confidence as link_confidence
from features.sources import Sources

KEY = b"linking-bench-key"
DEMO = "demo"
SCENARIO_CASES = 8_000  # a scenario city's cases by default, as in the generalization benchmark
START = date(2025, 1, 1)
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
NEGATIVE_SHARE = 0.02  # share of non-matching pairs kept to fit the comparison model
SIGNALS = (*TRUE_PAIR_SIGNALS, "closed")


def simulated_sources(seed: int, n_cases: int, days: int) -> tuple[Sources, pd.DataFrame]:
    """The simulated city's stored sources and its truth_links table."""
    from cities.demo import FILE_NAMES, SimulationConfig, simulate_city

    city = simulate_city(SimulationConfig(seed=seed, n_cases=n_cases, days=days, start=START))
    return stored_sources(city, FILE_NAMES), city.truth_links


def scenario_sources(name: str, n_cases: int, days: int) -> tuple[Sources, pd.DataFrame, date, str]:
    """A Hawkes scenario city's (`cities.scenario.scenarios()`, sized) stored sources, truth_links, start
    and description."""
    from bench.generalization_scenarios import describe_config
    from cities.hawkes import FILE_NAMES, simulate_city
    from cities.scenario import scenarios
    from contracts.vocabulary import RecordKind

    scenario = scenarios()[name].sized(n_cases, days)
    city = simulate_city(scenario)
    names = {
        kind: FILE_NAMES[kind.value]
        for kind in (RecordKind.CASES, RecordKind.CASE_EVENTS, RecordKind.HOTLINE)
    }
    return stored_sources(city, names), city.truth_links, scenario.start, describe_config(scenario)


def stored_sources(city: object, file_names: dict) -> Sources:
    """A simulated city's cases, case_events and hotline exports in the stored, pseudonymised form."""
    from contracts.vocabulary import RecordKind
    from ingest.validate import validate_frame

    stored = {}
    for field, kind in (
        ("cases", RecordKind.CASES),
        ("case_events", RecordKind.CASE_EVENTS),
        ("hotline", RecordKind.HOTLINE),
    ):
        text = getattr(city, field).fillna("").astype(str)
        text.insert(0, "_row", range(1, len(text) + 1))
        stored[field] = validate_frame(text, kind, file_names[kind], KEY).records
    return Sources.ordered(stored["cases"], stored["case_events"], stored["hotline"])


def signal_pairs(known: Sources, instant: pd.Timestamp, config: LinkConfig) -> pd.DataFrame:
    """Every candidate pair of the window's calls with the linker's signals (call_linking.candidate_signals),
    as the columns SIGNALS, and a call number grouping each call's pairs in candidate order."""
    pairs = candidate_signals(known.hotline, known.cases, known.hotline, instant, config, events=known.events)
    reporter = pairs["same_reporter"].to_numpy(dtype=bool)
    return pd.DataFrame(
        {
            "call": pd.factorize(pairs["call_id"])[0],
            "call_id": pairs["call_id"].to_numpy(),
            "case_id": pairs["case_id"].to_numpy(),
            "reporter": reporter.astype(float),
            "linked_caller": (pairs["same_linked_caller"].to_numpy(dtype=bool) & ~reporter).astype(float),
            "cosine": pairs["cosine"].to_numpy(dtype=float),
            "named": np.minimum(pairs["n_named"].to_numpy(dtype=float), config.max_named),
            "amount": (pairs["n_amount"].to_numpy(dtype=float) > 0).astype(float),
            "category_agrees": (pairs["category"].to_numpy(dtype=float) > 0).astype(float),
            "category_clashes": (pairs["category"].to_numpy(dtype=float) < 0).astype(float),
            "closed": pairs["closed"].to_numpy(dtype=bool).astype(float),
        }
    )


def best_two(call: np.ndarray, z: np.ndarray) -> pd.DataFrame:
    """Per call (pairs grouped by call): its best pair (the first on a tie), z1 and the runner-up's z2."""
    first = np.flatnonzero(np.r_[True, call[1:] != call[:-1]])
    counts = np.diff(np.r_[first, len(call)])
    z1 = np.maximum.reduceat(z, first)
    segment = np.repeat(np.arange(len(first)), counts)
    is_best = z == z1[segment]
    best_row = np.full(len(first), len(call))
    np.minimum.at(best_row, segment[is_best], np.flatnonzero(is_best))
    rest = z.copy()
    rest[best_row] = -np.inf
    return pd.DataFrame({"row": best_row, "z1": z1, "z2": np.maximum.reduceat(rest, first)})


def chosen_by(pairs: pd.DataFrame, z: np.ndarray) -> pd.DataFrame:
    """Per call: the best case under scores z and its confidence (the linker's rule)."""
    best = best_two(pairs["call"].to_numpy(), z)
    confidence, _ = link_confidence(best["z1"].to_numpy(), best["z2"].to_numpy())
    rows = best["row"].to_numpy()
    return pd.DataFrame(
        {
            "call_id": pairs["call_id"].to_numpy()[rows],
            "case_id": pairs["case_id"].to_numpy()[rows],
            "confidence": confidence,
        }
    )


def window_calls(known: Sources, instant: pd.Timestamp, config: LinkConfig) -> pd.DataFrame:
    """The calls without a case_id received in the window before the instant (and known before it)."""
    calls = known.hotline
    start = instant - pd.Timedelta(days=config.call_window_days)
    inside = (calls["received_at"] >= start) & (calls["received_at"] < instant) & calls["case_id"].isna()
    return calls.loc[inside, ["call_id", "received_at", "known_at", "caller_phone_pid"]].reset_index(
        drop=True
    )


def phone_rule(known: Sources, targets: pd.DataFrame) -> pd.DataFrame:
    """(call, case) attributions of the phone rule: the caller's phone is a known case's reporter phone
    and the call came at or after the case's opening."""
    cases = known.cases.dropna(subset=["reporter_phone_pid"])
    calls = targets.dropna(subset=["caller_phone_pid"])
    pairs = calls[["call_id", "received_at", "caller_phone_pid"]].merge(
        cases[["case_id", "opened_at", "reporter_phone_pid"]],
        left_on="caller_phone_pid",
        right_on="reporter_phone_pid",
    )
    return pairs.loc[pairs["received_at"] >= pairs["opened_at"], ["call_id", "case_id"]]


def scores_table(judged: pd.DataFrame, linkable: int, thresholds: tuple[float, ...]) -> pd.DataFrame:
    """Precision and recall of the best candidates kept at each threshold."""
    rows = []
    for threshold in thresholds:
        kept = judged[judged["confidence"] >= threshold]
        correct = int(kept["correct"].sum())
        rows.append(
            {
                "threshold": threshold,
                "links": len(kept),
                "correct": correct,
                "background_linked": int(kept["true_case_id"].isna().sum()),
                "precision": correct / max(len(kept), 1),
                "recall": correct / max(linkable, 1),
            }
        )
    return pd.DataFrame(rows)


def judge(choices: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Choices joined with the truth of their calls, and whether each is the true case."""
    judged = choices.merge(population[["call_id", "true_case_id"]], on="call_id", how="left")
    judged["correct"] = (judged["case_id"] == judged["true_case_id"]).to_numpy(dtype=bool)
    return judged


def main() -> None:
    """Measure one city and write its section of the figures (the other cities' sections are kept)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario", default=DEMO, help="'demo' or a cities.scenario name (hawkes_calls ...)"
    )
    parser.add_argument("--seed", type=int, default=7, help="the demo city's seed (a scenario has its own)")
    parser.add_argument("--cases", type=int, default=None, help="default 20,000 (demo), 8,000 (scenario)")
    parser.add_argument("--days", type=int, default=540)
    parser.add_argument("--every", type=int, default=30, help="days between as-of dates (the call window)")
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    args = parser.parse_args()
    if args.cases is None:
        args.cases = 20_000 if args.scenario == DEMO else SCENARIO_CASES
    config = LinkConfig(call_window_days=args.every)

    started = time.perf_counter()
    if args.scenario == DEMO:
        sources, truth = simulated_sources(args.seed, args.cases, args.days)
        start, what = START, f"demo city: seed {args.seed}"
        simulation = {"seed": args.seed, "cases": args.cases, "days": args.days, "start": START.isoformat()}
    else:
        sources, truth, start, what = scenario_sources(args.scenario, args.cases, args.days)
        simulation = {"scenario": args.scenario, "cases": args.cases, "days": args.days, "start": str(start)}
    figures, table = measure(sources, truth, start, args.days, config)
    figures = {
        "command": "python -m bench.linking_quality "
        + " ".join(f"--{k} {v}" for k, v in vars(args).items() if k != "out"),
        "city": what,
        "simulation": simulation,
        **figures,
        "prepare_seconds": time.perf_counter() - started - figures["linking_seconds"],
        "machine": machine(),
        "code": code_state(("features",)),
    }
    del table
    path = args.out / "linking_quality.json"
    stored = read_stored(path)
    stored["cities"][args.scenario] = figures
    args.out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2, default=str), encoding="utf-8")
    text = page(stored["cities"], stored.get("summary"))
    (args.out / "linking_quality.md").write_text(text, encoding="utf-8")
    print(section(args.scenario, figures))


def read_stored(path: Path) -> dict[str, object]:
    """The figures already written: the cities' sections and the written summary, if any (an older file
    with the demo's figures alone is its 'demo' section)."""
    if not path.exists():
        return {"cities": {}}
    stored = json.loads(path.read_text(encoding="utf-8"))
    return stored if "cities" in stored else {"cities": {DEMO: stored}}


def measure(
    sources: Sources, truth: pd.DataFrame, start: date, days: int, config: LinkConfig
) -> tuple[dict[str, object], pd.DataFrame]:
    """Links the calls of every window of a city and scores them against its truth."""
    every = config.call_window_days
    true_case = truth.set_index("call_id")["true_case_id"]
    instants = [pd.Timestamp(start + timedelta(days=d)) for d in range(2 * every, days + 1, every)]
    hand, test_choices, train, population, phone, seconds, outcomes = [], [], [], [], [], [], []
    model: LogisticRegression | None = None
    reachable = 0
    # Even windows first: the comparison model is fitted on them before the odd ones are scored.
    for number in [*range(0, len(instants), 2), *range(1, len(instants), 2)]:
        instant = instants[number]
        known = sources.known_before(instant)
        began = time.perf_counter()
        production = link_calls(
            known.hotline, known.cases, known.hotline, instant, config, events=known.events
        )
        seconds.append(time.perf_counter() - began)
        targets = window_calls(known, instant, config).merge(truth, on="call_id", how="left")
        population.append(targets.assign(window=number))
        phone.append(phone_rule(known, targets))
        pairs = signal_pairs(known, instant, config)
        pairs["label"] = pairs["case_id"].to_numpy() == pairs["call_id"].map(true_case).to_numpy()
        reachable += int(pairs["label"].sum())
        z = hand_scores(pairs, config)
        choices = chosen_by(pairs, z).assign(window=number)
        same = choices[choices["confidence"] >= config.threshold].sort_values("call_id", ignore_index=True)
        assert same["case_id"].tolist() == production["case_id"].tolist()
        assert np.allclose(same["confidence"], production["confidence"])
        hand.append(choices)
        outcomes.append(
            call_outcomes(known, targets, pairs, z, choices, config.threshold, true_case, instant)
        )
        if number % 2 == 0:
            negatives = pairs[~pairs["label"]].sample(frac=NEGATIVE_SHARE, random_state=number)
            train.append(pd.concat([pairs[pairs["label"]], negatives])[[*SIGNALS, "label"]])
        else:
            if model is None:
                model = fit_comparison(pd.concat(train, ignore_index=True))
            fitted = chosen_by(pairs, model.decision_function(pairs[list(SIGNALS)]))
            test_choices.append((choices, fitted.assign(window=number)))
        print(f"{instant.date()}: {len(targets):,} calls, {len(production):,} links, {seconds[-1]:.1f} s")

    population_frame = pd.concat(population, ignore_index=True)
    outcomes_frame = pd.concat(outcomes, ignore_index=True)
    linkable = int(population_frame["true_case_id"].notna().sum())
    judged = judge(pd.concat(hand, ignore_index=True), population_frame)
    table = scores_table(judged, linkable, THRESHOLDS)
    at_threshold = scores_table(judged, linkable, (config.threshold,)).iloc[0].to_dict()

    rule = pd.concat(phone, ignore_index=True).merge(
        population_frame[["call_id", "true_case_id"]], on="call_id"
    )
    rule_correct = rule["case_id"] == rule["true_case_id"]
    phone_figures = {
        "attributions": len(rule),
        "calls": int(rule["call_id"].nunique()),
        "true_links_found": int(rule_correct.sum()),
        "recall": float(rule_correct.sum() / max(linkable, 1)),
        "precision": float(rule_correct.sum() / max(len(rule), 1)),
    }
    figures = {
        "as_of_dates": [str(i.date()) for i in instants],
        "config": asdict(config),
        "calls_without_case_id": len(population_frame),
        "linkable_calls": linkable,
        "background_calls": int(population_frame["true_case_id"].isna().sum()),
        "reachable_calls": reachable,
        "reachable_share": reachable / max(linkable, 1),
        "at_threshold": at_threshold,
        "by_threshold": table.to_dict(orient="records"),
        "phone_rule": phone_figures,
        "fitted_comparison": fitted_comparison(model, test_choices, population_frame, config),
        "diagnosis": outcome_table(outcomes_frame).to_dict(orient="records"),
        "diagnosis_open_at_as_of": outcome_table(outcomes_frame[outcomes_frame["open_at_as_of"]]).to_dict(
            orient="records"
        ),
        "seconds_per_as_of": {"median": float(np.median(seconds)), "max": float(np.max(seconds))},
        "linking_seconds": float(np.sum(seconds)),
    }
    return figures, table


def hand_scores(pairs: pd.DataFrame, config: LinkConfig) -> np.ndarray:
    """The linker's hand-set score z from the signal columns."""
    return config.bias + pairs[list(SIGNALS)].to_numpy() @ np.array(hand_weights(config))


def hand_weights(config: LinkConfig) -> tuple[float, ...]:
    """The hand-set weights in SIGNALS order."""
    return (
        config.w_reporter_phone,
        config.w_linked_caller,
        config.w_text,
        config.w_named,
        config.w_amount,
        config.w_category,
        config.w_category_clash,
        config.w_closed,
    )


def fit_comparison(train: pd.DataFrame) -> LogisticRegression:
    """A logistic regression of 'this pair is the true one' on the signals (negatives subsampled and
    weighted back)."""
    weight = np.where(train["label"], 1.0, 1.0 / NEGATIVE_SHARE)
    return LogisticRegression(C=1.0, max_iter=1000).fit(
        train[list(SIGNALS)], train["label"], sample_weight=weight
    )


def fitted_comparison(
    model: LogisticRegression | None,
    test_choices: list[tuple[pd.DataFrame, pd.DataFrame]],
    population: pd.DataFrame,
    config: LinkConfig,
) -> dict[str, object]:
    """The fitted model against the hand-set weights on the odd windows (the linker's choice rule)."""
    if model is None or not test_choices:
        return {}
    test_population = population[population["window"] % 2 == 1]
    linkable = int(test_population["true_case_id"].notna().sum())
    tables = {}
    for name, position in (("hand_set", 0), ("fitted", 1)):
        choices = pd.concat([pair[position] for pair in test_choices], ignore_index=True)
        judged = judge(choices, test_population)
        tables[name] = scores_table(judged, linkable, (0.5, 0.7, 0.9)).to_dict(orient="records")
    return {
        "fitted_weights": dict(
            zip(("bias", *SIGNALS), [float(model.intercept_[0]), *map(float, model.coef_[0])], strict=True)
        ),
        "hand_set_weights": dict(zip(("bias", *SIGNALS), (config.bias, *hand_weights(config)), strict=True)),
        "test_linkable_calls": linkable,
        "tables": tables,
    }


def page(cities: dict[str, dict], summary: str | None = None) -> str:
    """The Markdown page of every city's figures (the demo first), after the written summary if any."""
    order = sorted(cities, key=lambda name: (name != DEMO, name))
    lines = [
        "# Call-to-case linking against the simulators' truth",
        "",
        "Each section: one simulated city, linked as the daily run links it, scored against the city's "
        "truth of which case each call is about (`python -m bench.linking_quality --scenario NAME`).",
        "",
        *([summary, ""] if summary else []),
    ]
    return "\n".join([*lines, *(section(name, cities[name]) for name in order)])


def section(name: str, figures: dict) -> str:
    """One city's section of the page."""
    sim, at, phone = figures["simulation"], figures["at_threshold"], figures["phone_rule"]
    cmp, window = figures["fitted_comparison"], figures["config"]["call_window_days"]
    seconds = figures["seconds_per_as_of"]
    city = figures.get("city", f"demo city: seed {sim.get('seed')}")
    table = pd.DataFrame(figures["by_threshold"])
    lines = [
        f"## {name}" if name != DEMO else "## The demo city",
        "",
        f"Command: `{figures['command']}`. {city}, {sim['cases']:,} cases, "
        f"{sim['days']} days from {sim['start']}; {len(figures['as_of_dates'])} as-of dates every "
        f"{window} days, each linking the calls received in the {window} days before it; every call is "
        "decided at the midnight after it became known, from what was known then (as the daily run does).",
        "",
        f"Calls without a case_id: {figures['calls_without_case_id']:,}; linkable (a true case exists): "
        f"{figures['linkable_calls']:,}; background (no case): {figures['background_calls']:,}. "
        f"The true case was among the candidates for {figures['reachable_calls']:,} linkable calls "
        f"({figures['reachable_share']:.1%}).",
        "",
        f"**At the chosen threshold {at['threshold']}: precision {at['precision']:.3f}, "
        f"recall {at['recall']:.3f}** ({int(at['links']):,} links, {int(at['correct']):,} correct, "
        f"{int(at['background_linked'])} to background calls).",
        "",
        markdown_table(table),
        "",
        "**Phone rule alone** (hotline_activity: an unlinked call from a case's reporter phone since "
        f"its opening, for every such case): finds {phone['true_links_found']:,} true links "
        f"(recall {phone['recall']:.3f}) with {phone['attributions']:,} attributions "
        f"(precision {phone['precision']:.3f}).",
        "",
    ]
    if figures.get("diagnosis"):
        lines += [
            "**Where the linkable calls go** (outcome of each linkable call; then, over the calls of that "
            "outcome, the share whose true pair carried each signal, the mean cosine, the median number "
            "of candidates, and the share whose phone had called earlier about the same case, quoting "
            "the number or not):",
            "",
            markdown_table(pd.DataFrame(figures["diagnosis"])),
            "",
            "The same for the linkable calls whose true case is open at their window's as-of date (as "
            "the record known then says): the calls that count in that date's features of a listed case.",
            "",
            markdown_table(pd.DataFrame(figures["diagnosis_open_at_as_of"])),
            "",
        ]
    if figures.get("note"):
        lines += [figures["note"], ""]
    if cmp:
        lines += [
            "**Hand-set against fitted weights**: a logistic regression on the same signals, fitted with "
            "the truth on the even windows, against the hand-set weights, both scored on the odd windows "
            "with the linker's choice and confidence rule (for comparison only, never in the product); "
            f"{cmp['test_linkable_calls']:,} linkable calls.",
            "",
        ]
        for kind in ("hand_set", "fitted"):
            lines += [f"{kind}:", "", markdown_table(pd.DataFrame(cmp["tables"][kind])), ""]
        weights = pd.DataFrame({"hand_set": cmp["hand_set_weights"], "fitted": cmp["fitted_weights"]})
        lines += [markdown_table(weights.reset_index().rename(columns={"index": "weight"})), ""]
    lines += [
        f"Linking time per as-of date ({window} days of decisions, none remembered from another date): "
        f"median {seconds['median']:.1f} s, "
        f"max {seconds['max']:.1f} s on {figures['machine']['cpu_model']} "
        f"({figures['machine']['usable_cores']} usable cores, shared with other work).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
