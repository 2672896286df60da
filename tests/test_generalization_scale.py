"""The generalization benchmark at a larger size beside the 8,000-case rows (bench.generalization_scale)."""

from __future__ import annotations

from bench.generalization_figures import overall, scenario_figures
from bench.generalization_scale import assembled, merged_runs, of_cities, render
from tests.builders import generalization_results


def _scenario(name: str, product: float, truth: float, chosen: str = "logistic_blend") -> dict:
    dates = [
        {
            "as_of": "2026-01-01",
            "n": 1000,
            "k": 50,
            "base_rate": 0.05,
            "product": product,
            "truth": truth,
            "rule": 0.1,
            "expected_product": product,
            "expected_truth": truth,
            "expected_rule": 0.1,
            "on_list": 990,
            "listed_without_truth": 0,
        }
    ]
    grid = [
        {"candidate": c, "precision_at_k": p, "precision_at_k_se": 0.01, "chosen": c == chosen}
        for c, p in (("logistic_blend", 0.31), ("trees_tuned", 0.29))
    ]
    return {
        "name": name,
        "family": "cities generator",
        "description": name,
        "train_as_of": "2026-01-01",
        "model_version": "v1",
        "candidate": chosen,
        "grid": grid,
        "dates": dates,
        **scenario_figures(dates),
        "seconds": {"simulate": 1.0, "ingest": 2.0, "train": 120.0, "score": 3.0, "total": 126.0},
    }


def _run(cases: int, scenarios: list[dict]) -> dict:
    return generalization_results(scenarios, overall(scenarios), cases=cases, days=540)


def test_only_the_large_runs_cities_are_copied_with_all_their_draws() -> None:
    small = _run(8000, [_scenario(n, 0.2, 0.25) for n in ("a", "a~1", "a~2", "b", "c~1")])
    large = _run(20000, [_scenario("a", 0.24, 0.25), _scenario("c", 0.2, 0.2)])
    kept = assembled(large, small, None, None, None, ["load 5"])
    assert [s["name"] for s in kept["small"]["scenarios"]] == ["a", "a~1", "a~2", "c~1"]
    assert kept["large"] is large and kept["notes"] == ["load 5"] and kept["oracle"]["small"] is None
    assert [r["name"] for r in of_cities(small["scenarios"], {"b"})] == ["b"]


def test_render_puts_each_size_of_a_city_together_with_the_grid_and_the_pooled_draws() -> None:
    small = _run(8000, [_scenario("a", 0.2, 0.25), _scenario("a~1", 0.3, 0.3), _scenario("b", 0.1, 0.2)])
    large = _run(20000, [_scenario("a", 0.24, 0.25, chosen="trees_tuned")])
    text = render(assembled(large, small, None, None, None, ["load 5"]))
    rows = [line for line in text.splitlines() if line.startswith("| a,") or line.startswith("| **a,")]
    assert rows[0].startswith("| a, first draw | 8,000 |") and "**0.80×**" in rows[0]
    assert rows[1].startswith("| a, 2 draws pooled | 8,000 |") and "**0.91×**" in rows[1]
    assert rows[2].startswith("| **a, first draw** | 20,000 | abc1234 |") and "**0.96×**" in rows[2]
    assert "| 2.0 |" in rows[2]  # training minutes
    assert "- a, 20,000, first draw: logistic_blend 0.310 ± 0.010; **trees_tuned 0.290 ± 0.010**" in text
    assert "| b," not in text and "- load 5" in text
    assert "### Generalization: the product on cities it was not designed on" in text


def test_runs_of_the_large_size_are_merged_with_their_commits_and_each_draw_shown_then_pooled() -> None:
    first = _run(20000, [_scenario("a", 0.24, 0.25)])
    second = {**_run(20000, [_scenario("a~1", 0.18, 0.25)]), "code": {**first["code"], "commit": "def5678"}}
    large = merged_runs([first, second])
    assert [(s["name"], s["commit"]) for s in large["scenarios"]] == [("a", "abc1234"), ("a~1", "def5678")]
    assert large["summary"]["mean"]["ratio_to_truth"] == 0.84
    assert [r["code"]["commit"] for r in large["runs"]] == ["abc1234", "def5678"]
    text = render(assembled(large, _run(8000, [_scenario("a", 0.2, 0.25)]), None, None, None, []))
    assert "| **a, first draw** | 20,000 | abc1234 |" in text
    assert "| **a, draw 1** | 20,000 | def5678 |" in text and "| **0.72×** |" in text
    assert "| **a, 2 draws pooled** | 20,000 |  |" in text and "**0.84×**" in text


def test_a_merged_record_merged_again_keeps_its_scenarios_commits_and_its_runs() -> None:
    first = _run(20000, [_scenario("a", 0.24, 0.25)])
    second = {**_run(20000, [_scenario("a~1", 0.18, 0.25)]), "code": {**first["code"], "commit": "def5678"}}
    third = {**_run(20000, [_scenario("b", 0.2, 0.25)]), "code": {**first["code"], "commit": "fed9876"}}
    again = merged_runs([merged_runs([first, second]), third])
    assert [(s["name"], s["commit"]) for s in again["scenarios"]] == [
        ("a", "abc1234"),
        ("a~1", "def5678"),
        ("b", "fed9876"),
    ]
    assert [r["code"]["commit"] for r in again["runs"]] == ["abc1234", "def5678", "fed9876"]
    assert again["command"].count("; ") == 2
