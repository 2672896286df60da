"""The Hawkes city's truth: for each truth date D and case open then, the exact probability of an
escalation in [D, D + 30 days), in closed form from the state (lambda_i, Z_district) at D 00:00.

The process is an affine Markov chain: R_t = lambda_t + f_t Z_t, exciting counts N_j ~ Poisson(share_j R_t),
lambda_{t+1} = mu f_t (1 - rho) + rho lambda_t + sum_j jump_j N_j, Z_{t+1} = rho_z Z_t + s K_t with
K_t ~ Poisson(nu_t), and no escalation on day t with probability exp(-(b f_t + a R_t)). So
P(no escalation on days D..D+29 | lambda, Z) = exp(A + B lambda + C Z), with, backwards from
A = B = C = 0 after the last day, for t = D+29 down to D:
    g = sum_j share_j (exp(jump_j B) - 1)
    A <- A - b f_t + B mu f_t (1 - rho) + nu_t (exp(s C) - 1)
    C <- f_t (g - a) + rho_z C
    B <- rho B + g - a
(right-hand sides use the values of day t+1). Closing, mediation and every other record never feed back
into the process, so this is exact: no Monte Carlo, no frozen-state approximation.
"""

from __future__ import annotations

import numpy as np

from cities.mechanics import Mechanics
from cities.population import Population
from cities.process import SHOCK_PERSISTENCE, SHOCK_SIZE

HORIZON_DAYS = 30


def truth_days(days: int, every: int) -> np.ndarray:
    """Day indices of the truth dates: every `every` days from day 30 to day days - 30."""
    return np.arange(HORIZON_DAYS, days - HORIZON_DAYS + 1, every)


def escalation_probability(
    m: Mechanics,
    pop: Population,
    rows: np.ndarray,
    day: int,
    intensity: np.ndarray,
    shock: np.ndarray,
    shock_rates: np.ndarray,
) -> np.ndarray:
    """P(an escalation of any type in [day, day + 30)) for the case rows, given lambda (per row) and Z
    (per district) at the start of `day`; shock_rates is (days, districts)."""
    a, b = pop.slope[rows].sum(axis=1), pop.floor[rows].sum(axis=1)
    mu, tau, opened = pop.baseline[rows], pop.fade_days[rows], pop.opened_day[rows]
    district = pop.district[rows]
    big_a, big_b, big_c = np.zeros(len(rows)), np.zeros(len(rows)), np.zeros(len(rows))
    for t in range(day + HORIZON_DAYS - 1, day - 1, -1):
        fade = np.exp(-(t - opened) / tau)
        g = (m.shares[None, :] * np.expm1(np.outer(big_b, m.jumps))).sum(axis=1)
        big_a = (
            big_a
            - b * fade
            + big_b * mu * fade * (1.0 - m.persistence)
            + shock_rates[t, district] * np.expm1(SHOCK_SIZE * big_c)
        )
        big_c = fade * (g - a) + SHOCK_PERSISTENCE * big_c
        big_b = m.persistence * big_b + g - a
    log_quiet = big_a + big_b * intensity + big_c * shock[district]
    return np.clip(-np.expm1(log_quiet), 0.0, 1.0)


def open_mask(
    n_opened: int,
    status_case: np.ndarray,
    status_at: np.ndarray,
    status_known: np.ndarray,
    status_reopened: np.ndarray,
    instant: int,
) -> np.ndarray:
    """Which of the first n_opened cases are open at `instant` (seconds) by the product's rule — the
    latest closed/reopened event before it (by time, then knowledge time, reopened winning ties) is not
    closed — judged on event time or on knowledge time (open in either counts)."""
    result = np.zeros(n_opened, dtype=bool)
    for stamp in (status_at, status_known):
        keep = (stamp < instant) & (status_at < instant) & (status_case < n_opened)
        closed = np.zeros(n_opened, dtype=bool)
        order = np.lexsort((status_reopened[keep], status_known[keep], status_at[keep]))
        case = status_case[keep][order]
        last = np.unique(case[::-1], return_index=True)[1]
        latest = len(case) - 1 - last
        closed[case[latest]] = ~status_reopened[keep][order][latest]
        result |= ~closed
    return result
