"""How well could any churn model do on the demo world? The best prediction from what the exports show.

`cxp eval models` compares the churn model with an oracle that knows each person's latent purchase
rate, dropout probability and whether they are still alive at the cutoff. Nothing in the exports
says the last of these: a customer who dropped out and one who is only between orders look alike
until the next order does or does not come. This bench computes the Bayes-optimal churn prediction
from what the exports do show, under the generator's own process and population priors:

- purchases in the export window, support tickets with their bad ratings, every email delivered
  with whether a person opened it and clicked;
- the process of `dagster_project.demo_exports` (BG/NBD buying with dropout after each purchase, bad
  tickets that raise dropout and sometimes make a person walk away, support and order tickets,
  human opens that fall to 15% of a person's engagement once they have dropped out);
- the priors of `population.py` for each person's rate, dropout, engagement and support.

Per person, the posterior over those parameters is found by importance sampling over prior draws,
and, given each draw, the chance they are still alive at the cutoff by an exact two-state forward
pass over the days after their last purchase. Also printed: the same forward pass given each
person's true parameters (knows everything but the alive state). The world is simulated in-process
(the exports' own simulator, same seed), so every event is at hand without parsing files.

Small simplifications, each leaving the ceiling a little optimistic or neutral: a person's
acquisition day is known, dropout bumps from bad tickets before the window are not, and the
experiment's extra purchases are read as ordinary ones.

    uv run python bench/churn_ceiling.py --customers 100000 --days 900 --persons 20000
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from dagster_project.demo_exports.email_events import TRANSACTIONAL
from dagster_project.demo_exports.email_sends import CLICK, DELIVERED, OPEN
from dagster_project.demo_exports.lifecycle import (
    BAD_TICKET_DROPOUT_BUMP,
    BAD_TICKET_DROPOUT_FACTOR,
    BAD_TICKET_WALKAWAY_PROB,
    ORDER_TICKET_RATE_PER_DAY,
    ORDER_TICKET_WINDOW_DAYS,
)
from dagster_project.demo_exports.population import BGNBD_A, BGNBD_ALPHA, BGNBD_B, BGNBD_R
from dagster_project.demo_exports.record_corruption import RecordCorruption
from dagster_project.demo_exports.timeline import Timeline
from dagster_project.demo_exports.world import World, simulate_world
from ml.oracle import chance_of_purchase

DEAD_OPEN_FACTOR = 0.15  # email_sends: a person who dropped out opens at 15% of their engagement


@dataclass(frozen=True)
class Parameters:
    """Draws (or one person's truth) of the latent parameters, as parallel arrays."""

    rate_per_year: np.ndarray
    dropout: np.ndarray
    engagement: np.ndarray
    support_per_day: np.ndarray
    bad_share: np.ndarray

    def buys_within(self, days: int) -> np.ndarray:
        """P(a purchase within `days`) for a person alive now (walking away after bad tickets included)."""
        walkaway = self.support_per_day * 365 * self.bad_share * BAD_TICKET_WALKAWAY_PROB
        return chance_of_purchase(self.rate_per_year, walkaway, days / 365)


def prior_draws(count: int, rng: np.random.Generator) -> Parameters:
    """Draws from the generator's population priors (population.draw_population)."""
    rate = rng.gamma(BGNBD_R, 1 / BGNBD_ALPHA, size=count)
    log_rate = np.log(rate + 0.05)
    affinity = 0.8 * (log_rate - log_rate.mean()) / log_rate.std() + 0.7 * rng.standard_normal(count)
    return Parameters(rate, rng.beta(BGNBD_A, BGNBD_B, size=count), 1 / (1 + np.exp(1.0 - affinity)),
                      rng.gamma(0.8, 0.5, size=count) / 365, rng.beta(2.0, 8.0, size=count))


@dataclass(frozen=True)
class Observed:
    """One person's exported history from the first observed day to the cutoff, in simulation days."""

    first_day: int
    acquired_before_window: bool
    purchase_days: np.ndarray  # one entry per purchase
    poisson_purchases: int  # purchases the rate explains (not the one made at sign-up)
    ticket_days: np.ndarray
    ticket_bad: np.ndarray
    email_days: np.ndarray
    email_transactional: np.ndarray
    email_appeal: np.ndarray
    email_opened: np.ndarray
    email_clicked: np.ndarray


def _open_chances(seen: Observed, rows: np.ndarray, theta: Parameters, alive: bool) -> np.ndarray:
    """(emails, draws): P(a human open) of each email under each draw."""
    base = theta.engagement[None, :] * (1.0 if alive else DEAD_OPEN_FACTOR)
    chance = np.where(seen.email_transactional[rows, None], 0.35 + 0.5 * base, base * seen.email_appeal[rows, None])
    return np.clip(chance, 0, 0.95)


def log_likelihood_and_alive(seen: Observed, theta: Parameters, cutoff: int) -> tuple[np.ndarray, np.ndarray]:
    """Per draw: log P(what the exports show) and P(alive at the cutoff | it)."""
    rate_day, p = theta.rate_per_year / 365, theta.dropout.copy()
    support, walk = theta.support_per_day, BAD_TICKET_WALKAWAY_PROB
    last = int(seen.purchase_days.max())
    log_l = np.zeros(len(p))
    if seen.acquired_before_window:
        # Alive at the window's start, having signed up on an unknown day of the history.
        loss = theta.rate_per_year * p + support * 365 * theta.bad_share * walk
        years = seen.first_day / 365
        log_l += np.log(-np.expm1(-loss * years) / (loss * years))
    log_l += seen.poisson_purchases * np.log(rate_day) - rate_day * (last - seen.first_day + 1)
    # Until the last purchase the person was alive: tickets, their ratings and surviving each purchase.
    order_days = np.unique(seen.purchase_days)
    recent = np.zeros(cutoff - seen.first_day + 1, dtype=bool)
    for day in order_days:
        recent[day - seen.first_day: day - seen.first_day + ORDER_TICKET_WINDOW_DAYS + 1] = True
    before = seen.ticket_days < last
    quiet = np.ones(last - seen.first_day, dtype=bool)
    quiet[seen.ticket_days[before] - seen.first_day] = False
    log_l += (quiet & recent[: len(quiet)]).sum() * np.log1p(-(support + ORDER_TICKET_RATE_PER_DAY))
    log_l += (quiet & ~recent[: len(quiet)]).sum() * np.log1p(-support)
    events = sorted([(int(d), 0, int(k)) for d, k in zip(*np.unique(seen.purchase_days, return_counts=True)) if d < last]
                    + [(int(d), 1, int(bad)) for d, bad in zip(seen.ticket_days[before], seen.ticket_bad[before])])
    for day, kind, value in events:
        if kind == 0:
            log_l += value * np.log1p(-p)
            continue
        log_l += np.log(support + ORDER_TICKET_RATE_PER_DAY * recent[day - seen.first_day])
        log_l += np.log(theta.bad_share if value else 1 - theta.bad_share)
        if value:
            log_l += np.log1p(-walk)
            p = np.minimum(0.95, p * BAD_TICKET_DROPOUT_FACTOR + BAD_TICKET_DROPOUT_BUMP)
    opened = np.flatnonzero(seen.email_opened)
    clicks = 0.1 + 0.35 * theta.engagement[None, :]
    log_l += np.log(np.where(seen.email_clicked[opened, None], clicks, 1 - clicks)).sum(0)
    early = np.flatnonzero(seen.email_days < last)
    chance = _open_chances(seen, early, theta, alive=True)
    log_l += np.log(np.where(seen.email_opened[early, None], chance, 1 - chance)).sum(0)
    # From the last purchase on: alive or dropped out, day by day (purchase, tickets, then mail).
    dead = 1 - (1 - p) ** int((seen.purchase_days == last).sum())
    alive = 1 - dead
    late = np.flatnonzero(seen.email_days >= last)
    open_alive, open_dead = _open_chances(seen, late, theta, True), _open_chances(seen, late, theta, False)
    opened_late = seen.email_opened[late, None]
    mail_alive = np.where(opened_late, open_alive, 1 - open_alive)
    mail_dead = np.where(opened_late, open_dead, 1 - open_dead)
    tickets = dict(zip(seen.ticket_days[~before].tolist(), seen.ticket_bad[~before].tolist()))
    for day in range(last, cutoff + 1):
        if day > last:
            alive = alive * np.exp(-rate_day)
        order_rate = ORDER_TICKET_RATE_PER_DAY if day - last <= ORDER_TICKET_WINDOW_DAYS else 0.0
        if day in tickets:
            rating = theta.bad_share if tickets[day] else 1 - theta.bad_share
            alive, dead = alive * (support + order_rate) * rating, dead * order_rate * rating
            if tickets[day]:
                alive, dead = alive * (1 - walk), dead + alive * walk
        else:
            alive, dead = alive * (1 - support - order_rate), dead * (1 - order_rate)
        today = seen.email_days[late] == day
        if today.any():
            alive, dead = alive * mail_alive[today].prod(0), dead * mail_dead[today].prod(0)
        scale = alive + dead
        log_l += np.log(scale)
        alive, dead = alive / scale, dead / scale
    return log_l, alive


def observe(world: World, persons: np.ndarray, cutoff: int) -> list[Observed]:
    """What the exports show of each person, up to the end of the cutoff day."""
    life, people, first = world.life, world.people, world.timeline.first_window_day
    events = world.email.events
    delivered = events.filter(pl.col("event") == DELIVERED).select("recipient", "message", "campaign", "ts")
    for flag, kind, human in (("opened", OPEN, True), ("clicked", CLICK, False)):
        hits = events.filter((pl.col("event") == kind) & ((pl.col("machine") == 0) if human else pl.lit(True)))
        delivered = delivered.join(hits.select("message").unique().with_columns(pl.lit(True).alias(flag)), on="message",
                                   how="left").with_columns(pl.col(flag).fill_null(False))
    campaign = delivered["campaign"].to_numpy().astype(np.int64)
    appeal = np.array([c.appeal for c in world.campaigns] + [1.0])[np.where(campaign >= 0, campaign, len(world.campaigns))]
    mail = pl.DataFrame({"person": world.recipients.person[delivered["recipient"].to_numpy()],
                         "day": (delivered["ts"].to_numpy() - world.timeline.sim_start_epoch) // 86_400,
                         "transactional": campaign == TRANSACTIONAL, "appeal": appeal,
                         "opened": delivered["opened"], "clicked": delivered["clicked"]})
    acquired = people["acquisition_day"].to_numpy()
    signup_buy = people["buys_at_acquisition"].to_numpy()
    chosen = set(persons.tolist())
    purchases = pl.DataFrame({"person": life.purchase_person, "day": life.purchase_day}).filter(pl.col("person").is_in(chosen))
    tickets = pl.DataFrame({"person": life.ticket_person, "day": life.ticket_day, "bad": life.ticket_bad}).filter(
        pl.col("person").is_in(chosen))
    mail = mail.filter(pl.col("person").is_in(chosen))
    by = {name: dict(frame.partition_by("person", as_dict=True, include_key=False))
          for name, frame in (("purchases", purchases), ("tickets", tickets), ("mail", mail))}
    seen = []
    empty_t, empty_m = tickets.clear(), mail.clear()
    for person in persons.tolist():
        start = max(int(acquired[person]), first)
        window = lambda frame: frame.filter((pl.col("day") >= start) & (pl.col("day") <= cutoff))  # noqa: E731
        bought = window(by["purchases"][(person,)])["day"].to_numpy()
        t = window(by["tickets"].get((person,), empty_t))
        m = window(by["mail"].get((person,), empty_m))
        at_signup = bool(acquired[person] >= first and signup_buy[person] and (bought == acquired[person]).any())
        seen.append(Observed(start, bool(acquired[person] < first), bought, len(bought) - at_signup,
                             t["day"].to_numpy(), t["bad"].to_numpy(), m["day"].to_numpy(), m["transactional"].to_numpy(),
                             m["appeal"].to_numpy(), m["opened"].to_numpy(), m["clicked"].to_numpy()))
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=900)
    parser.add_argument("--persons", type=int, default=20_000, help="churn evaluation persons to score (sampled)")
    parser.add_argument("--draws", type=int, default=4_000, help="prior draws per person")
    parser.add_argument("--horizon", type=int, default=90)
    args = parser.parse_args()
    started = time.perf_counter()
    timeline = Timeline(end_date=dt.date.today() - dt.timedelta(days=1), days=args.days)
    world = simulate_world(args.customers, timeline, np.random.Generator(np.random.PCG64(42)), RecordCorruption())
    life, people = world.life, world.people
    cutoff = timeline.last_window_day - args.horizon
    seen_purchase = (life.purchase_day >= timeline.first_window_day) & (life.purchase_day <= cutoff)
    last = np.full(people.height, -1, np.int64)
    np.maximum.at(last, life.purchase_person[seen_purchase], life.purchase_day[seen_purchase])
    active = np.flatnonzero((last >= 0) & (last > cutoff - 365))  # the churn model's population (ml.labels)
    persons = np.random.default_rng(1).choice(active, size=min(args.persons, len(active)), replace=False)
    later = (life.purchase_day > cutoff) & (life.purchase_day <= cutoff + args.horizon)
    churned = ~np.isin(persons, life.purchase_person[later])
    truth = Parameters(*(people[c].to_numpy() for c in ("lambda_per_year", "p_dropout", "email_engagement")),
                       people["support_rate_per_year"].to_numpy() / 365, people["support_bad_prob"].to_numpy())
    draws = prior_draws(args.draws, np.random.default_rng(7))
    bayes, known = np.zeros(len(persons)), np.zeros(len(persons))
    alive_bayes, alive_known = np.zeros(len(persons)), np.zeros(len(persons))
    for row, (person, seen) in enumerate(zip(persons, observe(world, persons, cutoff))):
        log_l, alive = log_likelihood_and_alive(seen, draws, cutoff)
        weight = np.exp(log_l - log_l.max())
        bayes[row] = 1 - (weight * alive * draws.buys_within(args.horizon)).sum() / weight.sum()
        alive_bayes[row] = (weight * alive).sum() / weight.sum()
        own = Parameters(*(np.array([getattr(truth, f)[person]]) for f in Parameters.__dataclass_fields__))
        alive_known[row] = log_likelihood_and_alive(seen, own, cutoff)[1][0]
        known[row] = 1 - alive_known[row] * own.buys_within(args.horizon)[0]
    own_all = Parameters(*(getattr(truth, f)[persons] for f in Parameters.__dataclass_fields__))
    oracle = 1 - np.where(life.death_day[persons] > cutoff, own_all.buys_within(args.horizon), 0.0)
    auc = {name: roc_auc_score(churned, score) for name, score in
           (("oracle (knows parameters and who is alive)", oracle), ("knows parameters, not who is alive", known),
            ("Bayes from the exports (population priors)", bayes))}
    print(f"churn within {args.horizon} days, {len(persons):,} of {len(active):,} active persons at the cutoff "
          f"({churned.mean():.1%} churn), {args.draws:,} prior draws, {time.perf_counter() - started:.0f} s")
    # A check of the likelihood itself: posteriors that follow the process are calibrated.
    print(f"  still alive at the cutoff: {np.mean(life.death_day[persons] > cutoff):.1%}; mean P(alive) knowing the "
          f"parameters {alive_known.mean():.1%}, from the exports {alive_bayes.mean():.1%}")
    reference = next(iter(auc.values()))
    for name, value in auc.items():
        print(f"  {name:45s} ROC AUC {value:.4f}  {value / reference:.1%} of the oracle's")


if __name__ == "__main__":
    main()
