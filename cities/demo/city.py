"""The demo city's entry points: simulate a city from its config, write its exports and truth as CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cities.demo.calls import draw_calls, hotline_export
from cities.demo.cases import draw_cases
from cities.demo.config import FILE_NAMES, GRIEVANCE_COLUMNS, SimulatedCity, SimulationConfig
from cities.demo.dynamics import simulate_history
from cities.demo.exports import cases_export, draw_case_times, events_export
from cities.demo.generic_calls import generic_calls, with_generic_calls
from cities.demo.grievances import simulate_grievances, with_grievances
from cities.demo.messiness import make_messy
from cities.demo.places import draw_places
from cities.demo.truth import escalation_truth, link_truth
from contracts.vocabulary import RecordKind


def city_streams(config: SimulationConfig) -> list[np.random.Generator]:
    """The city's six random streams, in order: places, cases, history, case times, events, calls."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(6)]


def simulate_city(config: SimulationConfig) -> SimulatedCity:
    """Simulates a city's exports and truth tables for config (deterministic in config)."""
    streams = city_streams(config)
    places = draw_places(streams[0])
    cases = draw_cases(streams[1], config, places)
    history = simulate_history(streams[2], cases, config)
    case_times = draw_case_times(streams[3], cases, config)
    cases_frame = cases_export(streams[3], cases, case_times, places)
    events_frame = events_export(streams[4], cases, history, case_times, places, config)
    calls = draw_calls(streams[5], cases, history, places, config)
    frames = {
        RecordKind.CASES: cases_frame,
        RecordKind.CASE_EVENTS: events_frame,
        RecordKind.HOTLINE: hotline_export(streams[5], calls, cases, config.start),
    }
    frames, corruptions = make_messy(
        np.random.default_rng(np.random.SeedSequence([config.seed, 1])), frames, config
    )
    city = SimulatedCity(
        cases=frames[RecordKind.CASES],
        case_events=frames[RecordKind.CASE_EVENTS],
        hotline=frames[RecordKind.HOTLINE],
        truth_escalation=escalation_truth(history, cases, config),
        truth_links=link_truth(calls, cases),
        truth_corruptions=corruptions,
        truth_grievances=pd.DataFrame({c: pd.Series(dtype=object) for c in GRIEVANCE_COLUMNS}),
    )
    # Generic calls, then group grievances, come from their own streams and are appended (clean) after
    # the messiness, so every other row is the same with or without them.
    generic = generic_calls(np.random.default_rng([config.seed, 12]), len(calls.call_id), places, config)
    grievances = simulate_grievances(
        np.random.default_rng([config.seed, 10]),
        cases.case_id,
        len(calls.call_id) + len(generic.hotline),
        places,
        config,
    )
    return with_grievances(with_generic_calls(city, generic), grievances)


def write_city(city: SimulatedCity, out_dir: Path) -> dict[str, Path]:
    """Writes out_dir/cases.csv, out_dir/case_events.csv, out_dir/hotline.csv (UTF-8, header,
    pandas to_csv index=False) and out_dir/truth/{escalation,links,corruptions,grievances}.csv;
    returns the paths by name."""
    targets = {
        "cases": (city.cases, out_dir / FILE_NAMES[RecordKind.CASES]),
        "case_events": (city.case_events, out_dir / FILE_NAMES[RecordKind.CASE_EVENTS]),
        "hotline": (city.hotline, out_dir / FILE_NAMES[RecordKind.HOTLINE]),
        "truth_escalation": (city.truth_escalation, out_dir / "truth" / "escalation.csv"),
        "truth_links": (city.truth_links, out_dir / "truth" / "links.csv"),
        "truth_corruptions": (city.truth_corruptions, out_dir / "truth" / "corruptions.csv"),
        "truth_grievances": (city.truth_grievances, out_dir / "truth" / "grievances.csv"),
    }
    for frame, path in targets.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False, encoding="utf-8")
    return {name: path for name, (_, path) in targets.items()}
