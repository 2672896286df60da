"""A city whose disputes and calls come from self-exciting (Hawkes) processes, with exact true risks.

Every case has a latent intensity lambda of activity. Each day it produces, as Poisson draws, calls about
the case, conflict call-outs, failed mediations and breached agreements; each of these raises lambda (with
a decay rho a day back towards a resting level that fades with the case's age), and cases of a district
share its shocks (a decaying level Z, jumping at a seasonal rate). The daily hazard of each escalation
(violence, group_incident, litigation) is b_k + a_k * (lambda + fade * Z), with b and a set by the case's
category, money at stake and parties, and a hidden temperament. Process records (visits, sessions,
mediated, referred, closed, reopened) follow the intensity but never feed back, so the probability of an
escalation within 30 days is exact in closed form from the state at a date (`cities.truth`).

    from cities.hawkes import simulate_city, write_city
    from cities.scenario import scenarios
    city = simulate_city(scenarios()["hawkes_calls"])
    write_city(city, Path("out"))    # cases.csv, case_events.csv, hotline.csv, truth/escalation.csv
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from cities.export import case_ids, cases_frame, events_frame, hotline_frame
from cities.mechanics import mechanics
from cities.people import draw_callers
from cities.population import Population, draw_population
from cities.process import KIND, History, shock_rates, simulate_history
from cities.scenario import HawkesScenario
from cities.truth import HORIZON_DAYS, escalation_probability, open_mask, truth_days

FILE_NAMES: dict[str, str] = {
    "cases": "cases.csv",
    "case_events": "case_events.csv",
    "hotline": "hotline.csv",
    "truth_escalation": "truth/escalation.csv",
}
TRUTH_COLUMNS: tuple[str, ...] = ("as_of", "case_id", "p_escalation", "escalated")


@dataclass(frozen=True)
class HawkesCity:
    """The three exports of a Hawkes city and its truth (as_of, case_id, p_escalation, escalated); and the
    hidden population and history they were drawn from, for benchmarks that read the perfect record; and
    the case each call is about (truth_links: call_id, true_case_id, linked_in_export), for the linker's."""

    scenario: HawkesScenario
    cases: pd.DataFrame
    case_events: pd.DataFrame
    hotline: pd.DataFrame
    truth_escalation: pd.DataFrame
    population: Population
    history: History
    truth_links: pd.DataFrame


def simulate_city(scenario: HawkesScenario) -> HawkesCity:
    """Simulates the scenario's city (deterministic in the scenario, seed included)."""
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence([scenario.seed, 16]).spawn(6)]
    m = mechanics(scenario.signal)
    pop = draw_population(streams[0], scenario, m)
    days = truth_days(scenario.days, scenario.truth_every_days)
    history = simulate_history(streams[1], scenario, m, pop, days)
    callers = draw_callers(streams[2], pop.parties, 1.5 if scenario.signal == "parties" else 0.6)
    ids = case_ids(pop, scenario.start)
    cases, opened, known = cases_frame(streams[3], scenario, pop, ids, callers)
    events, status = events_frame(streams[4], scenario, m, history, ids, opened, known)
    hotline, links = hotline_frame(streams[5], scenario, m, pop, history, ids, callers)
    rates = shock_rates(scenario, np.arange(scenario.days))
    rows = []
    for i, day in enumerate(days):
        lam, shock = history.snapshot_intensity[i], history.snapshot_shock[i]
        cohort = np.flatnonzero(
            open_mask(len(lam), status.case, status.at, status.known, status.reopened, int(day) * 86_400)
        )
        p = escalation_probability(m, pop, cohort, int(day), lam[cohort], shock, rates)
        rows.append((int(day), cohort, p))
    truth = _truth_frame(scenario, history, ids, rows)
    return HawkesCity(scenario, cases, events, hotline, truth, pop, history, links)


def _truth_frame(
    scenario: HawkesScenario,
    history: History,
    ids: np.ndarray,
    rows: list[tuple[int, np.ndarray, np.ndarray]],
) -> pd.DataFrame:
    """One row per truth date and open case: its exact probability and whether it did escalate."""
    kinds = [KIND["violence"], KIND["group_incident"], KIND["litigation"]]
    hit = np.isin(history.event_kind, kinds)
    span = scenario.days + HORIZON_DAYS + 1
    keys = np.sort(history.event_case[hit] * span + history.event_day[hit])
    frames = []
    for day, cohort, p in rows:
        start = cohort * span + day
        escalated = np.searchsorted(keys, start + HORIZON_DAYS) > np.searchsorted(keys, start)
        as_of = (scenario.start + timedelta(days=day)).isoformat()
        frames.append(
            pd.DataFrame({"as_of": as_of, "case_id": ids[cohort], "p_escalation": p, "escalated": escalated})
        )
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TRUTH_COLUMNS})
    truth = pd.concat(frames, ignore_index=True)
    return truth.sort_values(["as_of", "case_id"], kind="stable", ignore_index=True)[list(TRUTH_COLUMNS)]


def write_city(city: HawkesCity, out_dir: Path) -> dict[str, Path]:
    """Writes out_dir/cases.csv, case_events.csv, hotline.csv (UTF-8, header, no index) and
    out_dir/truth/escalation.csv; returns the paths by name."""
    frames = {
        "cases": city.cases,
        "case_events": city.case_events,
        "hotline": city.hotline,
        "truth_escalation": city.truth_escalation,
    }
    paths = {name: out_dir / FILE_NAMES[name] for name in frames}
    for name, frame in frames.items():
        paths[name].parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(paths[name], index=False, encoding="utf-8")
    return paths
