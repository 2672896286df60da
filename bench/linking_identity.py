"""Hashes of the call linker's output on a simulated city, to show that a refactoring changes no link,
digest or list: run it before and after, the hashes must be equal.

Simulates a city (`bench.linking_quality.simulated_sources`) and prints the sha256 of the CSV of
`link_calls` every 10 days (the memo shared across dates), `day_decisions` of every day from the 30th
(with their digests), the last date's `window_links` decided afresh and from the remembered day decisions
(`link_memo.remember`), and its `candidate_signals`.

    python -m bench.linking_identity              # seed 7, 3,000 cases, 240 days: about a minute
    python -m bench.linking_identity 11 800 150
"""

from __future__ import annotations

import hashlib
import sys
import time
from datetime import date, timedelta

import pandas as pd

from bench.linking_quality import START, simulated_sources
from contracts.timeparse import as_of_instant
from features.call_linking import candidate_signals, day_decisions, link_calls, window_links
from features.known import cut
from features.link_memo import MEMO, remember
from features.sources import Sources


def sha256(frame: pd.DataFrame) -> str:
    """The sha256 of a frame's CSV (floats written exactly)."""
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def outputs(sources: Sources, dates: list[date], days: list[date]) -> dict[str, pd.DataFrame]:
    """The linker's outputs to hash (see the module docstring)."""
    out = {}
    MEMO.clear()
    frames = []
    for as_of in dates:
        known = sources.known_before(as_of_instant(as_of))
        links = link_calls(
            known.hotline, known.cases, known.hotline, as_of_instant(as_of), events=known.events
        )
        frames.append(links.assign(as_of=as_of))
    out["link_calls"] = pd.concat(frames, ignore_index=True)
    MEMO.clear()
    out["day_decisions"] = pd.concat([day_decisions(cut(sources, day)) for day in days], ignore_index=True)
    MEMO.clear()
    remember(out["day_decisions"], sources.hotline)
    instant = as_of_instant(dates[-1])
    known = sources.known_before(instant)
    out["window_links_remembered"] = window_links(
        known.hotline, known.cases, known.hotline, instant, events=known.events
    )
    MEMO.clear()
    out["window_links_fresh"] = window_links(
        known.hotline, known.cases, known.hotline, instant, events=known.events
    )
    out["candidate_signals"] = candidate_signals(
        known.hotline, known.cases, known.hotline, instant, events=known.events
    )
    MEMO.clear()
    return out


def main(seed: int = 7, n_cases: int = 3000, days: int = 240) -> None:
    started = time.perf_counter()
    sources, _ = simulated_sources(seed, n_cases, days)
    print(f"city: seed {seed}, {len(sources.cases)} cases, {len(sources.hotline)} calls")
    dates = [START + timedelta(days=d) for d in range(60, days + 1, 10)]
    decided = [START + timedelta(days=d) for d in range(30, days + 1)]
    for name, frame in outputs(sources, dates, decided).items():
        print(f"{name}: {len(frame)} rows, sha256 {sha256(frame)}")
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
