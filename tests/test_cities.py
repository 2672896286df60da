"""The Hawkes city (cities/): clean exports the product ingests, determinism, exact and informative truth,
scenario parameters that change the records."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from cities.hawkes import TRUTH_COLUMNS, HawkesCity, simulate_city, write_city
from cities.mechanics import branching, mechanics
from cities.population import draw_population
from cities.process import ESCALATION_JUMP, SHOCK_PERSISTENCE, SHOCK_SIZE, shock_rates
from cities.scenario import SIGNALS, HawkesScenario, scenarios
from cities.texts import DECOYS, NEGATED
from cities.truth import escalation_probability
from contracts.timeparse import as_of_instant
from features.cohort import open_cases
from ingest.run import ingest_paths
from pipelines.runtime import load_sources
from tests.builders import TEST_KEY
from warehouse.store import Warehouse

TINY = HawkesScenario(name="tiny", seed=3, n_cases=300, days=100)


@pytest.fixture(scope="session")
def tiny() -> HawkesCity:
    return simulate_city(TINY)


@pytest.fixture(scope="session")
def small() -> HawkesCity:
    """Big enough for a ranking check: ~1,500 cases over 240 days."""
    return simulate_city(replace(TINY, n_cases=1500, days=240, seed=5))


@pytest.fixture(scope="session")
def ingested(
    tiny: HawkesCity, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Path], Warehouse, object]:
    folder = tmp_path_factory.mktemp("hawkes")
    paths = write_city(tiny, folder)
    warehouse = Warehouse(f"sqlite:///{folder / 'store.db'}")
    report = ingest_paths([paths["cases"], paths["case_events"], paths["hotline"]], warehouse, TEST_KEY)
    return paths, warehouse, report


def test_exports_ingest_cleanly_through_the_product(tiny: HawkesCity, ingested: tuple) -> None:
    paths, _, report = ingested
    assert report.failed == {}
    accounting = report.accounting.set_index("source_file")
    assert accounting["quarantined"].sum() == 0
    expected = {
        "cases.csv": len(tiny.cases),
        "case_events.csv": len(tiny.case_events),
        "hotline.csv": len(tiny.hotline),
    }
    assert accounting["read"].to_dict() == expected
    assert accounting["accepted"].to_dict() == expected  # no duplicate keys either
    assert sorted(p.relative_to(paths["cases"].parent).as_posix() for p in paths.values()) == [
        "case_events.csv",
        "cases.csv",
        "hotline.csv",
        "truth/escalation.csv",
    ]


def test_truth_covers_every_case_the_product_scores(tiny: HawkesCity, ingested: tuple) -> None:
    """The product's cohort on each truth date (from what it knew) is inside the truth's rows."""
    _, warehouse, _ = ingested
    sources = load_sources(warehouse)
    truth = tiny.truth_escalation
    for as_of, rows in truth.groupby("as_of"):
        instant = as_of_instant(pd.Timestamp(as_of).date())
        product = set(open_cases(sources.known_before(instant), instant, dormant_days=None)["case_id"])
        assert product and product <= set(rows["case_id"]), as_of


def test_truth_file_has_the_demo_columns(tiny: HawkesCity, ingested: tuple) -> None:
    paths, _, _ = ingested
    written = pd.read_csv(paths["truth_escalation"])
    assert tuple(written.columns) == TRUTH_COLUMNS == ("as_of", "case_id", "p_escalation", "escalated")
    dates = sorted(written["as_of"].unique())
    assert dates[0] == "2024-03-31" and len(dates) == len(range(30, 71, 7))  # days 30..70, every 7
    assert not written.duplicated(["as_of", "case_id"]).any()


def test_same_seed_same_city_other_seed_another(tiny: HawkesCity) -> None:
    again = simulate_city(TINY)
    for name in ("cases", "case_events", "hotline", "truth_escalation"):
        pd.testing.assert_frame_equal(getattr(tiny, name), getattr(again, name))
    other = simulate_city(replace(TINY, seed=4))
    assert not other.hotline["text"].equals(tiny.hotline["text"])


def test_true_probabilities_rank_the_cases_that_escalate(small: HawkesCity) -> None:
    truth = small.truth_escalation
    assert truth["p_escalation"].between(0.0, 1.0).all()
    assert truth["escalated"].sum() >= 30
    assert roc_auc_score(truth["escalated"], truth["p_escalation"]) > 0.6
    # exact probabilities: on average they match what happened (many dates, loosely)
    assert truth["p_escalation"].mean() == pytest.approx(truth["escalated"].mean(), rel=0.35)


def test_closed_form_matches_monte_carlo_of_the_process() -> None:
    """escalation_probability equals the frequency of escalations when the dynamics are run forward."""
    scenario = replace(TINY, n_cases=50, days=120)
    m = mechanics(scenario.signal)
    pop = draw_population(np.random.default_rng(0), scenario, m)
    rows = np.array([0, 1, 2])
    day, lam, shock = 60, np.array([0.02, 0.3, 0.9]), np.full(6, 0.2)
    rates = shock_rates(scenario, np.arange(scenario.days))
    exact = escalation_probability(m, pop, rows, day, lam, shock, rates)
    rng, paths = np.random.default_rng(1), 40_000
    intensity = np.repeat(lam[None, :], paths, axis=0)
    z = np.repeat(shock[None, :], paths, axis=0)
    hit = np.zeros((paths, len(rows)), dtype=bool)
    district = pop.district[rows]
    for t in range(day, day + 30):
        fade = np.exp(-(t - pop.opened_day[rows]) / pop.fade_days[rows])
        rate = intensity + fade * z[:, district]
        counts = rng.poisson(rate[..., None] * m.shares)
        hazard = pop.floor[rows].sum(axis=1) * fade + pop.slope[rows].sum(axis=1) * rate
        hit |= rng.random(rate.shape) < -np.expm1(-hazard)
        intensity = (
            pop.baseline[rows] * fade * (1 - m.persistence) + m.persistence * intensity + counts @ m.jumps
        )
        z = SHOCK_PERSISTENCE * z + SHOCK_SIZE * rng.poisson(np.broadcast_to(rates[t], z.shape))
    assert ESCALATION_JUMP > 0  # feedback after the first escalation cannot matter to "any in 30 days"
    observed = hit.mean(axis=0)
    error = np.sqrt(exact * (1 - exact) / paths)
    assert np.all(np.abs(observed - exact) < 4 * error + 1e-4), (observed, exact)
    assert exact[0] < exact[1] < exact[2]


def test_every_scenario_generates_with_its_own_signal() -> None:
    named = scenarios()
    assert len(named) >= 4 and len({s.signal for s in named.values()}) >= 4
    assert {s.signal for s in named.values()} <= set(SIGNALS)
    for name, scenario in named.items():
        assert branching(mechanics(scenario.signal)) < 0.9, name
        city = simulate_city(scenario.sized(200, 90))
        assert len(city.cases) == 200 and len(city.truth_escalation) > 0, name
        assert city.truth_escalation["p_escalation"].between(0, 1).all(), name


def test_scenario_parameters_change_the_records() -> None:
    base = replace(TINY, n_cases=200, days=90)
    never = simulate_city(replace(base, never_closed_rate=1.0, case_number_quote_rate=0.0, decoy_rate=0.0))
    assert "closed" not in set(never.case_events["event_type"])
    assert never.hotline["case_id"].isna().all()
    assert not never.hotline["text"].isin(DECOYS).any()
    loud = simulate_city(replace(base, case_number_quote_rate=1.0, decoy_rate=1.0, negation_rate=1.0))
    assert "closed" in set(loud.case_events["event_type"])
    background = loud.hotline[loud.hotline["case_id"].isna()]
    assert background["text"].isin(DECOYS).all() and len(background) > 0
    quoted_texts = loud.hotline.loc[loud.hotline["case_id"].notna(), "text"]
    assert quoted_texts.map(lambda t: any(n in t for n in NEGATED)).any()


def test_invalid_scenarios_are_refused() -> None:
    with pytest.raises(ValueError, match="signal must be one of"):
        HawkesScenario(signal="weather")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="decoy_rate must be within"):
        HawkesScenario(decoy_rate=1.5)


def test_truth_links_name_the_case_behind_every_call(tiny: HawkesCity) -> None:
    """Every call has a truth row; a quoted case number is its true case; background calls have none."""
    links, hotline = tiny.truth_links, tiny.hotline
    assert list(links.columns) == ["call_id", "true_case_id", "linked_in_export"]
    assert links["call_id"].tolist() == hotline["call_id"].tolist()
    quoted = hotline["case_id"].notna().to_numpy()
    assert (links["linked_in_export"].to_numpy() == quoted).all()
    assert (links["true_case_id"][quoted] == hotline["case_id"][quoted]).all()
    about = links["true_case_id"].notna()
    assert set(links["true_case_id"][about]) <= set(tiny.cases["case_id"])
    assert 0 < (~about).sum() < about.sum()  # background calls: a third of the case calls
