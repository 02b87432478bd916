"""A randomized experiment the business's email tool ran, with a known, heterogeneous true effect.

"Reactivation offer": past buyers the business may email are split at random between `control`
and `discount_15` while the send ramps up over a week. Half of them respond (a latent flag); for a
responder the offer multiplies the daily purchase rate over their 60-day window by a factor that
depends on how often they buy: it wakes infrequent buyers up, nudges the middle, and puts the most
frequent buyers off (they wait for the next discount instead). Every person in the audience gets
the purchases of both arms drawn (potential outcomes), so the effect is known person by person.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from dagster_project.demo_exports.lifecycle import Lifecycles
from dagster_project.demo_exports.population import day_seconds
from dagster_project.demo_exports.timeline import SECONDS_PER_DAY, Timeline

EXPERIMENT_NAME = "Reactivation offer"
ARMS = ("control", "discount_15")
ARM_SHARES = (0.5, 0.5)
CONTROL, TREATED = 0, 1
HORIZON_DAYS = 60
# The offer acts on the whole days inside a person's window [assigned_at, assigned_at + 60 days):
# the 59 days after the assignment day, so every purchase it adds or removes falls in the window.
EFFECT_DAYS = HORIZON_DAYS - 1
# Share of the audience first exposed on each day of the first week, as the send ramps up.
RAMP_SHARES = (0.10, 0.15, 0.25, 0.15, 0.15, 0.10, 0.10)
# A window this long starts the experiment 75 days before its end, so its horizon can be observed.
LATE_START_MIN_WINDOW_DAYS = 120
LATE_START_DAYS_BEFORE_END = 75
RESPONDER_SHARE = 0.5
# On effect days a responder's daily purchase rate becomes rate x (1 + multiplier), the multiplier
# set by lambda_per_year: (upper bound, multiplier). About one responder in nine is above ten a year.
RATE_MULTIPLIERS = ((2.0, 2.0), (10.0, 0.4), (np.inf, -0.4))
# Which world a purchase happens in.
IN_BOTH, TREATED_ONLY, CONTROL_ONLY = 0, 1, 2


@dataclass(frozen=True)
class Experiment:
    """The plan, one entry per audience member (ascending person_index) in each array."""

    experiment_id: str
    name: str
    start_day: int
    person: np.ndarray
    arm: np.ndarray  # index into ARMS
    assigned_at: np.ndarray  # Unix seconds of the first exposure
    is_responder: np.ndarray
    rate_multiplier: np.ndarray  # 0 for non-responders
    alive_effect_days: np.ndarray  # effect days before the person's dropout
    expected_incremental_orders: np.ndarray  # multiplier x daily rate x alive effect days


def experiment_start_day(timeline: Timeline) -> int:
    """Simulation day the experiment starts: 75 days before the window's end, or a third into a short window."""
    if timeline.days >= LATE_START_MIN_WINDOW_DAYS:
        return timeline.last_window_day - LATE_START_DAYS_BEFORE_END
    return timeline.first_window_day + timeline.days // 3


def eligible_people(people: pl.DataFrame, life: Lifecycles, timeline: Timeline, start_day: int) -> np.ndarray:
    """Person indices of past buyers acquired before the start whom the exports show by then, with an
    unshared email not opted out by then.

    People whose erasure request arrives before the start are left out later (see experiment_log):
    the request is drawn after the orders, and a requester has stopped buying before it, so they
    have no purchase the offer could change."""
    start = int(timeline.day_start_epoch(start_day))
    bought_before = np.zeros(people.height, dtype=bool)
    bought_before[life.purchase_person[life.purchase_day < start_day]] = True
    # The audience is people the exports already show before the start: CRM contacts, and shoppers
    # with an order in the window. A shopper the tool knows from older orders only would be matched
    # by the platform only if they bought in the horizon, which would tie who is analysed to the outcome.
    seen_in_window = np.zeros(people.height, dtype=bool)
    in_window = (life.purchase_day >= timeline.first_window_day) & (life.purchase_day < start_day)
    seen_in_window[life.purchase_person[in_window]] = True
    known = people["in_crm"].to_numpy() | seen_in_window
    opt_out = people["email_opt_out_at"].to_numpy()
    return np.flatnonzero((people["acquired_at"].to_numpy() < start) & bought_before & known
                          & ~people["email_is_shared"].to_numpy() & ~((opt_out >= 0) & (opt_out < start)))


def rate_multipliers(lam_per_year: np.ndarray) -> np.ndarray:
    """A responder's multiplier of the daily purchase rate, by their purchases per year."""
    bounds = np.array([bound for bound, _ in RATE_MULTIPLIERS])
    return np.array([m for _, m in RATE_MULTIPLIERS])[np.searchsorted(bounds, lam_per_year, side="right")]


def plan_experiment(people: pl.DataFrame, life: Lifecycles, timeline: Timeline,
                    rng: np.random.Generator) -> Experiment:
    """Choose the audience, randomize arms and exposure times, and draw who responds and how."""
    start_day = experiment_start_day(timeline)
    person = eligible_people(people, life, timeline, start_day)
    n = len(person)
    arm = rng.choice(len(ARMS), size=n, p=ARM_SHARES)
    # A short window ends the ramp at its last day, so every first exposure is exported.
    ramp = np.array(RAMP_SHARES[: min(len(RAMP_SHARES), timeline.last_window_day - start_day + 1)])
    assigned_day = start_day + rng.choice(len(ramp), size=n, p=ramp / ramp.sum())
    assigned_at = timeline.day_start_epoch(assigned_day) + day_seconds(rng, n, peak_hour=14.0)
    is_responder = rng.random(n) < RESPONDER_SHARE
    lam = people["lambda_per_year"].to_numpy()[person]
    multiplier = np.where(is_responder, rate_multipliers(lam), 0.0)
    alive_days = np.clip(life.death_day[person].astype(np.int64) - (assigned_day + 1), 0, EFFECT_DAYS)
    start_date = timeline.sim_start + dt.timedelta(days=start_day)
    return Experiment(
        experiment_id=f"reactivation-offer-{start_date.year}", name=EXPERIMENT_NAME, start_day=start_day,
        person=person, arm=arm, assigned_at=assigned_at, is_responder=is_responder, rate_multiplier=multiplier,
        alive_effect_days=alive_days, expected_incremental_orders=multiplier * lam / 365.0 * alive_days)


def assigned_day(experiment: Experiment, timeline: Timeline) -> np.ndarray:
    """Simulation day of each audience member's first exposure."""
    return timeline.sim_day_of(experiment.assigned_at)


def add_potential_purchases(life: Lifecycles, experiment: Experiment, people: pl.DataFrame, timeline: Timeline,
                            rng: np.random.Generator) -> tuple[Lifecycles, np.ndarray]:
    """The purchases of both arms' worlds, and per purchase the world it happens in.

    A positive responder would make extra purchases if treated: a Poisson process at the daily rate
    times the multiplier on each effect day they are alive (drawn as a Poisson total spread uniformly
    over those days, the same distribution in far fewer draws). A negative responder would skip each
    of their purchases on effect days with probability -multiplier if treated."""
    if len(experiment.person) == 0:
        return life, np.full(len(life.purchase_day), IN_BOTH, dtype=np.int8)
    first_effect_day = assigned_day(experiment, timeline) + 1
    rate = np.maximum(experiment.rate_multiplier, 0.0) * people["lambda_per_year"].to_numpy()[experiment.person] / 365.0
    extra = rng.poisson(rate * experiment.alive_effect_days)
    owner = np.repeat(np.arange(len(extra)), extra)
    extra_day = first_effect_day[owner] + (rng.random(len(owner)) * experiment.alive_effect_days[owner]).astype(np.int64)
    position = np.full(people.height, -1)
    position[experiment.person] = np.arange(len(experiment.person))
    member = position[life.purchase_person]
    at = np.maximum(member, 0)
    affected = ((member >= 0) & (experiment.rate_multiplier[at] < 0) & (life.purchase_day >= first_effect_day[at])
                & (life.purchase_day < first_effect_day[at] + EFFECT_DAYS))
    world = np.full(len(life.purchase_day), IN_BOTH, dtype=np.int8)
    skipped = rng.random(int(affected.sum())) < -experiment.rate_multiplier[at[affected]]
    world[np.flatnonzero(affected)[skipped]] = CONTROL_ONLY
    day = np.concatenate([life.purchase_day, extra_day])
    by_day = np.argsort(day, kind="stable")
    potential = dataclasses.replace(
        life, purchase_person=np.concatenate([life.purchase_person, experiment.person[owner]])[by_day],
        purchase_day=day[by_day])
    return potential, np.concatenate([world, np.full(len(owner), TREATED_ONLY, dtype=np.int8)])[by_day]


def happens(world: np.ndarray, arm: np.ndarray) -> np.ndarray:
    """Whether a purchase of `world` happens for a person in `arm` (-1: outside the experiment)."""
    return ((world == IN_BOTH) | ((world == TREATED_ONLY) & (arm == TREATED))
            | ((world == CONTROL_ONLY) & (arm == CONTROL)))


def window_end(experiment: Experiment) -> np.ndarray:
    """End (exclusive, Unix seconds) of each audience member's 60-day window."""
    return experiment.assigned_at + HORIZON_DAYS * SECONDS_PER_DAY
