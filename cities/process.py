"""The day-by-day simulation of the Hawkes city: intensities, self-exciting events, escalations, status.

Per case i and day t (vectorised over the cases opened by t), with fade f = exp(-age / tau_i):
    R = lambda_i + f * Z_district                      (the case's intensity that day)
    N_j ~ Poisson(share_j * R)                          (call, conflict visit, failed mediation, breach)
    escalation of type k with probability 1 - exp(-(b_ik f + a_ik R)), independently
    lambda_i <- mu_i f (1 - rho) + rho lambda_i + sum_j jump_j N_j (+ a jump after an escalation)
    Z_d <- rho_z Z_d + SHOCK_SIZE * Poisson(shock_rate_d * season(t))   (district shocks)
Everything else (routine visits, mediation sessions, mediated, referred, closed, reopened, chatter calls)
may follow R but never feeds back into it, so closing a case does not change its risk and the state
(lambda_i, Z_d) at a date is all the future depends on (see `cities.truth`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cities.mechanics import Mechanics
from cities.population import Population, season
from cities.scenario import HawkesScenario
from cities.vocabulary import DISTRICTS

SHOCK_SIZE = 0.15
SHOCK_PERSISTENCE = 0.93
ESCALATION_JUMP = 0.2
# Event kinds of the simulation, mapped to the contract's event types in the export.
KINDS: tuple[str, ...] = (
    "registered",
    "assigned",
    "visit",  # routine visit
    "conflict_visit",  # exciting: a call-out to a confrontation (exported as visit)
    "mediation_session",
    "mediation_failed",
    "agreement_breached",
    "mediated",
    "referred",
    "closed",
    "reopened",
    "violence",
    "group_incident",
    "litigation",
)
KIND = {k: i for i, k in enumerate(KINDS)}
_STREAM_KINDS = np.array([-1, KIND["conflict_visit"], KIND["mediation_failed"], KIND["agreement_breached"]])
_ESCALATION_KINDS = np.array([KIND["violence"], KIND["group_incident"], KIND["litigation"]])


@dataclass(frozen=True)
class History:
    """What happened: events and case calls (case row, day, kind, intensity then), and the state snapshots."""

    event_case: np.ndarray
    event_day: np.ndarray
    event_kind: np.ndarray
    event_intensity: np.ndarray
    call_case: np.ndarray
    call_day: np.ndarray
    call_intensity: np.ndarray
    call_exciting: np.ndarray  # bool: a self-exciting call (else chatter)
    snapshot_days: np.ndarray
    snapshot_intensity: list[np.ndarray]  # per snapshot day: lambda of the cases opened before it
    snapshot_shock: list[np.ndarray]  # per snapshot day: Z per district


def shock_rates(scenario: HawkesScenario, days: np.ndarray) -> np.ndarray:
    """(len(days), districts): expected district shocks a day."""
    base = np.array([d.shock_rate for d in DISTRICTS])
    scaled = base.mean() + scenario.district_effect * (base - base.mean())
    return np.clip(scaled, 0.0, None)[None, :] * season(scenario, days)[:, None]


class _Log:
    """Collects event and call rows day by day."""

    def __init__(self) -> None:
        self.events: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
        self.calls: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []

    def event(self, rows: np.ndarray, day: int, kind: int | np.ndarray, intensity: np.ndarray) -> None:
        if len(rows):
            kinds = np.broadcast_to(np.asarray(kind, dtype=np.int64), rows.shape)
            self.events.append((rows, day, kinds.copy(), intensity[rows]))

    def call(self, rows: np.ndarray, day: int, intensity: np.ndarray, exciting: bool) -> None:
        if len(rows):
            self.calls.append((rows, day, intensity[rows], np.full(len(rows), exciting)))


def simulate_history(
    rng: np.random.Generator,
    scenario: HawkesScenario,
    m: Mechanics,
    pop: Population,
    snapshot_days: np.ndarray,
) -> History:
    """Runs the city day by day; snapshots (lambda, Z) at the start of each snapshot day."""
    n, days = pop.size, scenario.days
    intensity = np.zeros(n)
    shock = np.zeros(len(DISTRICTS))
    is_open = np.zeros(n, dtype=bool)
    close_on = np.full(n, -1, dtype=np.int64)
    opened_by = np.searchsorted(pop.opened_day, np.arange(days + 1), side="left")  # cases opened before day t
    rates = shock_rates(scenario, np.arange(days))
    snapshots = {int(d) for d in snapshot_days}
    snap_intensity: list[np.ndarray] = []
    snap_shock: list[np.ndarray] = []
    log = _Log()
    for t in range(days):
        if t in snapshots:
            snap_intensity.append(intensity[: opened_by[t]].copy())
            snap_shock.append(shock.copy())
        new = np.arange(opened_by[t], opened_by[t + 1])
        intensity[new] = pop.intake_intensity[new]
        is_open[new] = True
        live = opened_by[t + 1]
        fade = np.exp(-(t - pop.opened_day[:live]) / pop.fade_days[:live])
        rate = intensity[:live] + fade * shock[pop.district[:live]]
        log.event(new, t, KIND["registered"], rate)
        counts = rng.poisson(rate[:, None] * m.shares[None, :])
        hazard = pop.floor[:live] * fade[:, None] + pop.slope[:live] * rate[:, None]
        escalated = rng.random(hazard.shape) < -np.expm1(-hazard)
        _record_exciting(log, t, counts, escalated, rate, is_open[:live])
        _record_status(rng, log, t, pop, m, rate, fade, is_open, close_on, counts, escalated)
        chatter = np.flatnonzero(rng.random(live) < m.chatter * fade)
        log.call(chatter, t, rate, exciting=False)
        intensity[:live] = (
            pop.baseline[:live] * fade * (1.0 - m.persistence)
            + m.persistence * intensity[:live]
            + counts @ m.jumps
            + ESCALATION_JUMP * escalated.any(axis=1)
        )
        shock = SHOCK_PERSISTENCE * shock + SHOCK_SIZE * rng.poisson(rates[t])
    return _history(log, snapshot_days, snap_intensity, snap_shock)


def _record_exciting(
    log: _Log,
    t: int,
    counts: np.ndarray,
    escalated: np.ndarray,
    rate: np.ndarray,
    is_open: np.ndarray,
) -> None:
    """Logs the day's self-exciting events and escalations (a closed case's are logged too)."""
    calls = np.repeat(np.arange(len(counts)), counts[:, 0])
    log.call(calls, t, rate, exciting=True)
    for j in range(1, counts.shape[1]):
        rows = np.repeat(np.arange(len(counts)), counts[:, j])
        kind = np.full(len(rows), _STREAM_KINDS[j])
        if _STREAM_KINDS[j] == KIND["mediation_failed"]:  # a failed mediation follows a session the same day
            log.event(rows[is_open[rows]], t, KIND["mediation_session"], rate)
            kind[~is_open[rows]] = KIND["agreement_breached"]  # on a closed case: its agreement breaks
        log.event(rows, t, kind, rate)
    for k in range(escalated.shape[1]):
        log.event(np.flatnonzero(escalated[:, k]), t, _ESCALATION_KINDS[k], rate)


def _record_status(
    rng: np.random.Generator,
    log: _Log,
    t: int,
    pop: Population,
    m: Mechanics,
    rate: np.ndarray,
    fade: np.ndarray,
    is_open: np.ndarray,
    close_on: np.ndarray,
    counts: np.ndarray,
    escalated: np.ndarray,
) -> None:
    """Logs the day's process events (they follow the intensity but never feed back into it)."""
    live = len(rate)
    opened = is_open[:live]
    age = t - pop.opened_day[:live]
    draw = rng.random((live, 6))
    assigns = np.array([d.assigns for d in DISTRICTS])[pop.district[:live]]
    log.event(np.flatnonzero(opened & assigns & (age == 1) & (draw[:, 0] < 0.8)), t, KIND["assigned"], rate)
    log.event(np.flatnonzero(opened & (draw[:, 1] < m.routine_visits * (0.3 + fade))), t, KIND["visit"], rate)
    session = opened & (draw[:, 2] < (0.01 + 0.05 * rate) * fade)
    log.event(np.flatnonzero(session), t, KIND["mediation_session"], rate)
    mediated = opened & (age >= 3) & (draw[:, 3] < 0.02 * np.exp(-rate / 0.12))
    log.event(np.flatnonzero(mediated), t, KIND["mediated"], rate)
    log.event(np.flatnonzero(opened & (draw[:, 4] < 0.0015 * (1 + 4 * rate))), t, KIND["referred"], rate)
    schedule = np.flatnonzero(mediated & (close_on[:live] < 0))
    close_on[schedule] = t + 1 + rng.geometric(0.25, len(schedule))
    calm = opened & (age >= 7) & (draw[:, 5] < pop.closing[:live] * np.exp(-rate / 0.25))
    closing = (calm | (close_on[:live] == t)) & opened & ~pop.never_closed[:live]
    rows = np.flatnonzero(closing)
    log.event(rows, t, KIND["closed"], rate)
    is_open[rows] = False
    close_on[rows] = -1
    stirred = (counts[:, 1:].sum(axis=1) > 0) | escalated.any(axis=1)
    reopen = np.flatnonzero(~is_open[:live] & ~closing & stirred & (rng.random(live) < 0.3))
    log.event(reopen, t, KIND["reopened"], rate)
    is_open[reopen] = True


def _history(
    log: _Log, snapshot_days: np.ndarray, snap_intensity: list[np.ndarray], snap_shock: list[np.ndarray]
) -> History:
    """Concatenates the logged rows."""

    def cat(
        rows: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]], dtype: type
    ) -> tuple[np.ndarray, ...]:
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, dtype), np.zeros(0)
        return (
            np.concatenate([r[0] for r in rows]),
            np.concatenate([np.full(len(r[0]), r[1]) for r in rows]),
            np.concatenate([r[2] for r in rows]).astype(dtype),
            np.concatenate([r[3] for r in rows]),
        )

    e_case, e_day, e_kind, e_rate = cat(log.events, np.int64)
    c_case, c_day, c_rate, c_exc = cat([(r[0], r[1], r[3], r[2]) for r in log.calls], bool)
    return History(
        event_case=e_case,
        event_day=e_day,
        event_kind=e_kind,
        event_intensity=e_rate,
        call_case=c_case,
        call_day=c_day,
        call_intensity=c_rate,
        call_exciting=c_exc,
        snapshot_days=np.asarray(snapshot_days),
        snapshot_intensity=snap_intensity,
        snapshot_shock=snap_shock,
    )
