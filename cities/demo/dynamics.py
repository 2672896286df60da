"""The hidden day-by-day process of the cases: a mean-reverting tension that jumps with the case's events,
the case's stages, escalations with hazards rising with tension, and calls about cases
(docs/design/simulator.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cities.demo.cases import Cases
from cities.demo.categories import profile_array
from cities.demo.config import DAY, EVENT_CODE, HORIZON_DAYS, SimulationConfig, truth_as_of_dates
from cities.demo.draws import sigmoid
from contracts.vocabulary import DEFAULT_ESCALATION_EVENTS, EventType

ESCALATION_INTERCEPTS = np.array([-9.0, -10.1, -8.3])  # violence, group_incident, litigation
_ESCALATION_SLOPES = np.array([1.25, 1.05, 0.75])
_TENSION_PULL = 0.04
_TENSION_NOISE = 0.12
_TENSION_RANGE = (-3.0, 4.0)
_BASE_RANGE = (-2.5, 3.0)
_CALL_INTERCEPT = -3.6
_CALL_SLOPE = 0.7
_CLOSED_CALL_FACTOR = 0.25
_REOPEN_WINDOW_DAYS = 60
_TENSION_JUMPS: dict[EventType, tuple[float, float]] = {  # (jump of x, shift of baseline)
    EventType.VISIT: (-0.1, 0.0),
    EventType.MEDIATION_SESSION: (-0.05, 0.0),
    EventType.MEDIATION_FAILED: (0.5, 0.3),
    EventType.MEDIATED: (-0.9, -0.4),
    EventType.AGREEMENT_BREACHED: (0.9, 0.5),
    EventType.REFERRED: (0.0, -0.1),
    EventType.CLOSED: (-0.3, -0.3),
    EventType.REOPENED: (0.5, 0.2),
    EventType.VIOLENCE: (0.2, 0.0),
    EventType.GROUP_INCIDENT: (0.1, 0.0),
    EventType.LITIGATION: (-0.3, -0.2),
}

# stages of the hidden case process
_REGISTERED, _WORKING, _AGREED, _CLOSED, _RETIRED, _NOT_OPEN = 0, 1, 2, 3, 4, 5


def _static_log_hazards(cases: Cases) -> np.ndarray:
    """Per-case part of the log daily hazards of (violence, group_incident, litigation)."""
    c = cases.category
    violence = profile_array("violence")[c]
    group = profile_array("group")[c] + 0.6 * np.log(cases.party_count)
    litigation = profile_array("litigation")[c] + 0.35 * np.log1p(cases.amount / 10_000)
    return ESCALATION_INTERCEPTS + np.column_stack([violence, group, litigation])


def escalation_hazards(static: np.ndarray, tension: np.ndarray) -> np.ndarray:
    """Daily hazards (rows x escalation types) given the static part and the tension."""
    return np.exp(static + _ESCALATION_SLOPES * tension[:, None])


@dataclass
class _State:
    """The evolving hidden state of all cases."""

    tension: np.ndarray
    base: np.ndarray
    stage: np.ndarray
    closed_day: np.ndarray
    escalated: np.ndarray
    pending_referral: np.ndarray
    referred: np.ndarray


@dataclass
class _Recorder:
    """Collects events (case, day, type, order of generation, tension) during the day loop."""

    chunks: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    seq: int = 0

    def add(self, rows: np.ndarray, day: int, event: EventType, tension: np.ndarray) -> None:
        if rows.size:
            self.chunks.append(
                (
                    rows,
                    np.full(rows.size, day),
                    np.full(rows.size, EVENT_CODE[event]),
                    np.full(rows.size, self.seq),
                    tension[rows].copy(),
                )
            )
            self.seq += 1

    def arrays(self) -> tuple[np.ndarray, ...]:
        return _concat(self.chunks, (np.int64, np.int64, np.int64, np.int64, float))


@dataclass(frozen=True)
class History:
    """What happened: events, calls about cases, and the truth snapshots at as-of dates."""

    event_case: np.ndarray
    event_day: np.ndarray
    event_code: np.ndarray
    event_seq: np.ndarray
    event_tension: np.ndarray
    call_case: np.ndarray
    call_day: np.ndarray
    call_tension: np.ndarray
    truth_day: np.ndarray
    truth_case: np.ndarray
    truth_p: np.ndarray


_STAGE_AFTER: dict[EventType, int] = {
    EventType.ASSIGNED: _WORKING,
    EventType.MEDIATED: _AGREED,
    EventType.AGREEMENT_BREACHED: _WORKING,
    EventType.REOPENED: _WORKING,
    EventType.CLOSED: _CLOSED,
}


def _apply(state: _State, rows: np.ndarray, event: EventType, day: int, recorder: _Recorder) -> None:
    """Records event for rows and applies its effect on their hidden state."""
    recorder.add(rows, day, event, state.tension)
    jump, shift = _TENSION_JUMPS.get(event, (0.0, 0.0))
    state.tension[rows] += jump
    state.base[rows] += shift
    if event in _STAGE_AFTER:
        state.stage[rows] = _STAGE_AFTER[event]
    if event == EventType.CLOSED:
        state.closed_day[rows] = day
    if event == EventType.REFERRED:
        state.referred[rows] = True
        state.pending_referral[rows] = False


def _step_escalations(
    rng: np.random.Generator,
    state: _State,
    static: np.ndarray,
    rows: np.ndarray,
    day: int,
    recorder: _Recorder,
) -> None:
    """Escalation events of open cases for one day, from their hazards."""
    hazards = escalation_hazards(static[rows], state.tension[rows])
    fired = rng.random(hazards.shape) < -np.expm1(-hazards)
    for k, event in enumerate(DEFAULT_ESCALATION_EVENTS):
        hit = rows[fired[:, k]]
        _apply(state, hit, event, day, recorder)
        state.escalated[hit] = True
        state.pending_referral[hit] |= rng.random(hit.size) < 0.6


_Options = tuple[tuple[EventType, ...], np.ndarray]


def _closing_speed(state: _State, rows: np.ndarray) -> np.ndarray:
    """Multiplier of the closing rate: escalated or referred cases are wound up faster."""
    return 1.0 + 3.0 * state.escalated[rows] + 2.0 * state.referred[rows]


def _registered_options(state: _State, rows: np.ndarray) -> _Options:
    """Registered, not yet assigned: usually assigned within days, rarely withdrawn."""
    ones = np.ones(rows.size)
    return (EventType.ASSIGNED, EventType.CLOSED), np.column_stack([0.45 * ones, 0.004 * ones])


def _working_options(state: _State, rows: np.ndarray) -> _Options:
    """Being worked on: visits, mediation sessions, referral, closing (slower when tense)."""
    x, ones = state.tension[rows], np.ones(rows.size)
    events = (EventType.VISIT, EventType.MEDIATION_SESSION, EventType.REFERRED, EventType.CLOSED)
    probs = [
        0.05 * ones,
        0.07 * ones,
        0.002 + 0.35 * state.pending_referral[rows],
        0.006 * np.exp(-0.4 * x) * _closing_speed(state, rows),
    ]
    return events, np.column_stack(probs)


def _agreed_options(state: _State, rows: np.ndarray) -> _Options:
    """Mediated agreement in place: usually closed within weeks, sometimes breached (when tense)."""
    x, ones = state.tension[rows], np.ones(rows.size)
    events = (EventType.VISIT, EventType.AGREEMENT_BREACHED, EventType.REFERRED, EventType.CLOSED)
    probs = [
        0.015 * ones,
        0.006 * np.exp(0.8 * x),
        0.3 * state.pending_referral[rows],
        0.06 * np.exp(-0.3 * x) * _closing_speed(state, rows),
    ]
    return events, np.column_stack(probs)


def _closed_options(state: _State, rows: np.ndarray) -> _Options:
    """Closed (within the reopening window): sometimes reopened, more so when tense."""
    return (EventType.REOPENED,), (0.0015 * np.exp(0.6 * state.tension[rows]))[:, None]


_STAGE_OPTIONS: dict[int, Callable[[_State, np.ndarray], _Options]] = {
    _REGISTERED: _registered_options,
    _WORKING: _working_options,
    _AGREED: _agreed_options,
    _CLOSED: _closed_options,
}


def _draw_transitions(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """For each row, the index of the event that happens today (probs columns), or -1 for none."""
    cumulative = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))
    picked = (u[:, None] >= cumulative).sum(axis=1)
    return np.where(picked < probs.shape[1], picked, -1)


def _step_process(
    rng: np.random.Generator, state: _State, rows: np.ndarray, day: int, recorder: _Recorder
) -> None:
    """At most one process event per case and day (plus a session's outcome), by stage."""
    stages = state.stage[rows]
    sessions = np.empty(0, dtype=np.int64)
    for stage, options in _STAGE_OPTIONS.items():
        members = rows[stages == stage]
        if members.size == 0:
            continue
        events, probs = options(state, members)
        picked = _draw_transitions(rng, probs)
        for k, event in enumerate(events):
            hit = members[picked == k]
            _apply(state, hit, event, day, recorder)
            if event == EventType.MEDIATION_SESSION:
                sessions = hit
    resolved = sessions[rng.random(sessions.size) < 0.6]
    success = rng.random(resolved.size) < sigmoid(1.0 - 1.1 * state.tension[resolved])
    _apply(state, resolved[success], EventType.MEDIATED, day, recorder)
    _apply(state, resolved[~success], EventType.MEDIATION_FAILED, day, recorder)


def _step_calls(
    rng: np.random.Generator, state: _State, propensity: np.ndarray, rows: np.ndarray, is_open: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Hotline calls about cases for one day: (case per call, tension at the call)."""
    rate = np.exp(_CALL_INTERCEPT + propensity[rows] + _CALL_SLOPE * state.tension[rows])
    counts = rng.poisson(rate * np.where(is_open, 1.0, _CLOSED_CALL_FACTOR))
    callers = np.repeat(rows, counts)
    return callers, state.tension[callers]


def _step_tension(rng: np.random.Generator, state: _State, rows: np.ndarray) -> None:
    """One day of mean reversion plus noise of the tension (both kept within plausible bounds)."""
    base = np.clip(state.base[rows], *_BASE_RANGE)
    x = state.tension[rows]
    x = x + _TENSION_PULL * (base - x) + _TENSION_NOISE * rng.standard_normal(rows.size)
    state.base[rows] = base
    state.tension[rows] = np.clip(x, *_TENSION_RANGE)


class _EscalationMarks(_Recorder):
    """A recorder that keeps only which rows escalated: the paths drawn for the truth are not the city's."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.escalated = np.zeros(size, bool)

    def add(self, rows: np.ndarray, day: int, event: EventType, tension: np.ndarray) -> None:
        if event in DEFAULT_ESCALATION_EVENTS:
            self.escalated[rows] = True


def truth_probability(
    state: _State, static: np.ndarray, rows: np.ndarray, day: int, config: SimulationConfig
) -> np.ndarray:
    """Each open case's probability of escalating within the horizon from `day`: with `truth_paths`, the
    share of that many paths of the same process drawn from today's state (its own random stream, so the
    city is the same); with 0, the closed form 1 - exp(-horizon x today's hazard), which ignores the
    tension's return to its base and closings."""
    if not config.truth_paths:
        return -np.expm1(-HORIZON_DAYS * escalation_hazards(static[rows], state.tension[rows]).sum(axis=1))
    rng = np.random.default_rng([config.seed, 20, day])
    tiled = np.repeat(rows, config.truth_paths)
    paths = _State(**{name: getattr(state, name)[tiled].copy() for name in _State.__dataclass_fields__})
    path_static = static[tiled]
    everyone = np.arange(tiled.size)
    marks = _EscalationMarks(tiled.size)
    for offset in range(HORIZON_DAYS):
        alive = everyone[paths.stage <= _CLOSED]
        _step_escalations(rng, paths, path_static, alive[paths.stage[alive] <= _AGREED], day + offset, marks)
        _step_process(rng, paths, alive, day + offset, marks)
        _step_tension(rng, paths, alive)
        closed = alive[paths.stage[alive] == _CLOSED]
        paths.stage[closed[day + offset - paths.closed_day[closed] >= _REOPEN_WINDOW_DAYS]] = _RETIRED
    return marks.escalated.reshape(rows.size, config.truth_paths).mean(axis=1)


TruthFn = Callable[[_State, np.ndarray, np.ndarray, int, SimulationConfig], np.ndarray]
"""What computes the truth of the open cases on a truth day (`truth_probability`, or a benchmark's
wrapper recording what it needs beside it); it must not draw from the city's own random stream."""


def simulate_history(
    rng: np.random.Generator, cases: Cases, config: SimulationConfig, truth_of: TruthFn | None = None
) -> History:
    """Runs the hidden day-by-day process over the period (vectorised over live cases); the truth on the
    truth days by `truth_of` (default `truth_probability`)."""
    truth_of = truth_probability if truth_of is None else truth_of
    n = len(cases.case_id)
    open_day = cases.opened_sec // DAY
    state = _State(
        tension=cases.initial_tension.copy(),
        base=cases.base_tension.copy(),
        stage=np.full(n, _NOT_OPEN, dtype=np.int8),
        closed_day=np.full(n, -1),
        escalated=np.zeros(n, bool),
        pending_referral=np.zeros(n, bool),
        referred=np.zeros(n, bool),
    )
    static = _static_log_hazards(cases)
    truth_days = {(d - config.start).days for d in truth_as_of_dates(config)}
    recorder = _Recorder()
    calls: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    truth: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    opened = 0
    for day in range(config.days):
        live_end = int(np.searchsorted(open_day, day, side="left"))
        state.stage[opened:live_end] = _REGISTERED
        opened = live_end
        alive = np.flatnonzero(state.stage[:live_end] <= _CLOSED)
        is_open = state.stage[alive] <= _AGREED
        open_rows = alive[is_open]
        if day in truth_days:
            truth.append(
                (
                    np.full(open_rows.size, day),
                    open_rows,
                    truth_of(state, static, open_rows, day, config),
                )
            )
        _step_escalations(rng, state, static, open_rows, day, recorder)
        _step_process(rng, state, alive, day, recorder)
        callers, tension = _step_calls(rng, state, cases.call_propensity, alive, is_open)
        calls.append((np.full(callers.size, day), callers, tension))
        _step_tension(rng, state, alive)
        expired = alive[
            (state.stage[alive] == _CLOSED) & (day - state.closed_day[alive] >= _REOPEN_WINDOW_DAYS)
        ]
        state.stage[expired] = _RETIRED
    event_case, event_day, event_code, event_seq, event_tension = recorder.arrays()
    call_day, call_case, call_tension = _concat(calls, (np.int64, np.int64, float))
    truth_day, truth_case, truth_p = _concat(truth, (np.int64, np.int64, float))
    return History(
        event_case,
        event_day,
        event_code,
        event_seq,
        event_tension,
        call_case,
        call_day,
        call_tension,
        truth_day,
        truth_case,
        truth_p,
    )


def _concat(chunks: list[tuple[np.ndarray, ...]], dtypes: tuple[type, ...]) -> tuple[np.ndarray, ...]:
    """Column-wise concatenation of chunks of equal-length arrays (empty arrays when no chunk)."""
    if not chunks:
        return tuple(np.empty(0, dtype=t) for t in dtypes)
    return tuple(
        np.concatenate(parts).astype(t) for parts, t in zip(zip(*chunks, strict=True), dtypes, strict=True)
    )
