"""Per signal, the Hawkes mechanics: which streams excite the intensity, how hazard depends on traits.

Four self-exciting streams, in this order: a call about the case, a conflict call-out (a `visit` with
a conflict note), a failed mediation, a breached agreement. Each arrives as Poisson(share_j * R) a day
and raises the case's intensity by jump_j. The escalation hazard of type k is b_k + a_k * R; `slope_share`
is the share of the average hazard that comes through R (the rest is fixed by traits).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cities.scenario import Signal

STREAMS: tuple[str, ...] = ("call", "conflict_visit", "mediation_failed", "agreement_breached")


@dataclass(frozen=True)
class Mechanics:
    """The process constants of one signal."""

    shares: np.ndarray  # per stream: share of the intensity R arriving as that stream
    jumps: np.ndarray  # per stream: rise of the intensity per event
    persistence: float  # daily decay factor of the excitation (rho)
    slope_share: float  # share of the average escalation hazard carried by the intensity
    amount_power: float  # hazard ~ (amount / category median) ** power (litigation, violence)
    party_power: float  # group_incident hazard ~ parties ** power
    temperament_sd: float  # sd of the hidden log-temperament multiplying the baseline intensity
    chatter: float  # non-exciting calls a day per case (noise callers), scaled by age decay
    routine_visits: float  # non-exciting routine visits a day per open case
    call_cues: float  # 0..1: how closely call texts follow the intensity
    note_cues: float  # 0..1: how closely staff notes follow the intensity
    new_callers: float  # chance a call about a tense multi-party case comes from a new person
    hazard_scale: float = 1.0  # multiplier of the city's average escalation hazard


_BASE = Mechanics(
    shares=np.array([0.55, 0.20, 0.15, 0.10]),
    jumps=np.array([0.03, 0.05, 0.06, 0.06]),
    persistence=0.9,
    slope_share=0.8,
    amount_power=0.3,
    party_power=0.3,
    temperament_sd=0.7,
    chatter=0.02,
    routine_visits=0.015,
    call_cues=0.4,
    note_cues=0.3,
    new_callers=0.1,
)

_BY_SIGNAL: dict[str, Mechanics] = {
    # Callers carry it: most excitation arrives as calls, and their texts follow the intensity.
    "calls": replace(
        _BASE,
        shares=np.array([0.72, 0.10, 0.10, 0.08]),
        jumps=np.array([0.055, 0.07, 0.08, 0.10]),
        chatter=0.01,
        routine_visits=0.01,
        call_cues=0.9,
        note_cues=0.2,
    ),
    # Staff notes carry it: conflict call-outs dominate, routine visits dilute their count, notes tell.
    "staff_notes": replace(
        _BASE,
        shares=np.array([0.12, 0.60, 0.16, 0.12]),
        jumps=np.array([0.02, 0.07, 0.08, 0.10]),
        chatter=0.06,
        routine_visits=0.05,
        call_cues=0.15,
        note_cues=0.9,
    ),
    # Money at stake carries it: weak excitation, the hazard is mostly fixed by the amount.
    "amounts": replace(
        _BASE,
        jumps=np.array([0.03, 0.03, 0.03, 0.03]),
        persistence=0.85,
        slope_share=0.3,
        amount_power=1.1,
        hazard_scale=1.5,
        temperament_sd=0.4,
    ),
    # Parties carry it: group incidents scale with the parties, tense cases draw new callers.
    "parties": replace(
        _BASE,
        shares=np.array([0.70, 0.12, 0.10, 0.08]),
        jumps=np.array([0.04, 0.05, 0.06, 0.06]),
        slope_share=0.6,
        party_power=0.7,
        hazard_scale=0.8,
        temperament_sd=0.5,
        call_cues=0.5,
        new_callers=0.6,
    ),
    # Repeated failures carry it: failed mediations and breaches excite most, calls hardly.
    "repeat_failures": replace(
        _BASE,
        shares=np.array([0.25, 0.10, 0.40, 0.25]),
        jumps=np.array([0.01, 0.03, 0.10, 0.12]),
        persistence=0.88,
        chatter=0.03,
        call_cues=0.3,
    ),
}


def mechanics(signal: Signal) -> Mechanics:
    """The mechanics that put the risk signal in `signal`."""
    return _BY_SIGNAL[signal]


def branching(m: Mechanics) -> float:
    """Expected offspring intensity per unit of intensity (must stay below 1 for a stable city)."""
    return float(m.shares @ m.jumps) / (1.0 - m.persistence)
