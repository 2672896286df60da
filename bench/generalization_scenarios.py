"""The generalization benchmark's cities: the demo simulator at several settings and the scenarios of the
separately written generator, each a named way to write exports and truth into a folder."""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_FAMILY = "demo simulator"
CITIES_FAMILY = "cities generator"
# The demo simulator's truth drawn from this many paths of its process per open case (its closed form
# overstates the riskiest cases by about a quarter; 200 paths: ±0.03 at p = 0.3, about a minute per
# 8,000-case city).
TRUTH_PATHS = 200
# Another draw of a city, `name~k`: the same scenario with its seed moved by k times this step.
DRAW_MARK = "~"
DRAW_SEED_STEP = 1000


@dataclass(frozen=True)
class Scenario:
    """A named city: which generator, what it is, and how to write its exports and truth into a folder."""

    name: str
    family: str
    description: str
    config: dict[str, Any]
    write: Callable[[Path], object]
    redraw: Callable[[int], Scenario] | None = None


def base_name(name: str) -> str:
    """The scenario a draw `name~k` is of (the name itself when it is no draw)."""
    return name.split(DRAW_MARK)[0]


def by_city(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows (each with a `name`) grouped by the scenario they are draws of, in the order first seen."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(base_name(row["name"]), []).append(row)
    return groups


def redrawn(scenario: Scenario, draw: int) -> Scenario:
    """Draw `draw` (≥ 1) of a scenario: its city with the seed moved by `draw` × DRAW_SEED_STEP."""
    if scenario.redraw is None or draw < 1:
        raise SystemExit(f"{scenario.name} cannot be drawn again as draw {draw}")
    return scenario.redraw(draw)


def _seeded(
    name: str, family: str, description: str, config: Any, write: Callable[[Any, Path], object]
) -> Scenario:
    """A scenario of a seeded configuration, which can be drawn again with other seeds."""

    def redraw(draw: int) -> Scenario:
        other = dataclasses.replace(config, seed=config.seed + DRAW_SEED_STEP * draw)
        return _seeded(
            f"{name}{DRAW_MARK}{draw}",
            family,
            f"{description}; draw {draw} (seed {other.seed})",
            other,
            write,
        )

    return Scenario(
        name,
        family,
        description,
        _plain(_as_dict(config)),
        lambda out: write(config, out),
        redraw if DRAW_MARK not in name and hasattr(config, "seed") else None,
    )


def demo_scenarios(cases: int, days: int) -> list[Scenario]:
    """The demo simulator at settings its `SimulationConfig` allows, which change the city's draw, size,
    record quality and group grievances (the mechanics, vocabularies and texts stay the simulator's)."""
    from cities.demo import SimulationConfig, simulate_city, write_city

    variants = {
        "demo-default": ({"seed": 7}, "the demo city's settings (seed 7, clean records, 2 grievances)"),
        "demo-seed-31": ({"seed": 31}, "another draw of the same city (seed 31)"),
        "demo-messy": (
            {"seed": 11, "messiness": 0.05},
            "messy exports: 5% of rows broken or duplicated (quarantined at ingest, so some events, "
            "escalations and closings go missing; seed 11)",
        ),
        "demo-grievances": (
            {"seed": 23, "grievances": 8},
            "8 group grievances instead of 2, so more risk comes from clusters of callers (seed 23)",
        ),
        "demo-small": (
            {"seed": 5, "n_cases": max(1, cases // 2)},
            f"half the cases ({max(1, cases // 2):,}), a smaller city with fewer escalations to learn from",
        ),
    }
    scenarios = []
    for name, (changes, description) in variants.items():
        config = SimulationConfig(**{"n_cases": cases, "days": days, "truth_paths": TRUTH_PATHS, **changes})
        scenarios.append(
            _seeded(
                name,
                DEMO_FAMILY,
                description,
                config,
                lambda config, out: write_city(simulate_city(config), out),
            )
        )
    return scenarios


def cities_scenarios(cases: int, days: int) -> tuple[list[Scenario], str | None]:
    """The scenarios of the separately written generator (`cities`), sized like the others where its
    configurations have `n_cases`/`days` fields; no scenarios and the reason when it is not usable."""
    try:
        scenarios = _find(("cities", "cities.scenario"), "scenarios")
        generate = _find(("cities", "cities.hawkes"), "simulate_city")
        write = _find(("cities", "cities.hawkes"), "write_city")
    except ImportError as error:
        return [], f"the `cities` generator is not usable ({error}): demo-simulator scenarios only"
    found = []
    for name, config in dict(scenarios()).items():
        sized = sized_config(config, cases, days)
        made = _seeded(
            str(name), CITIES_FAMILY, describe_config(sized), sized, lambda c, out: write(generate(c), out)
        )
        if not (dataclasses.is_dataclass(sized) and not isinstance(sized, type)):
            made = dataclasses.replace(made, redraw=None)
        found.append(made)
    return found, None


def _find(modules: Sequence[str], name: str) -> Callable[..., Any]:
    """The first of the modules' callables called `name` (ImportError when none has it)."""
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if callable(getattr(module, name, None)):
            return getattr(module, name)
    raise ImportError(f"none of {', '.join(modules)} has {name}()")


def sized_config(config: Any, cases: int, days: int) -> Any:
    """The configuration with `n_cases` and `days` set, when it has those fields."""
    changes = {k: v for k, v in {"n_cases": cases, "days": days}.items() if hasattr(config, k)}
    if not changes:
        return config
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.replace(config, **changes)
    if hasattr(config, "model_copy"):
        return config.model_copy(update=changes)
    return config


def _as_dict(config: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    if hasattr(config, "model_dump"):
        return config.model_dump()
    return {"config": repr(config)}


def describe_config(config: Any) -> str:
    """What sets a generated city apart: its settings that differ from the generator's defaults."""
    if not (dataclasses.is_dataclass(config) and not isinstance(config, type)):
        return repr(config)
    changed = [
        f"{f.name}={getattr(config, f.name)}"
        for f in dataclasses.fields(config)
        if f.name not in ("name", "n_cases", "days")
        and (f.name == "signal" or f.default is dataclasses.MISSING or getattr(config, f.name) != f.default)
    ]
    kind = type(config).__name__
    return f"{kind}: " + ("; ".join(changed) if changed else "the generator's defaults")


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready values (dates and other objects as text)."""
    return json.loads(json.dumps(values, default=str))


def all_scenarios(cases: int, days: int) -> tuple[list[Scenario], list[str]]:
    """Every scenario, and notes on what could not be included."""
    cities, problem = cities_scenarios(cases, days)
    return demo_scenarios(cases, days) + cities, [problem] if problem else []
