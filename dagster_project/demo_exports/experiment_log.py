"""The experiment tool's assignment log: every exposure it recorded, with the defects real tools have.

The tool keys people by the email address it mails (a CRM person's own, a shopper's checkout
address) or, for some people synced from the CRM, by their Contact ID. It logs every exposure, so
people come back in later rows with the same arm; a few come back in the other arm (a bug of the
tool), and a few rows carry addresses nobody in the business's data has. After an erasure request the tool
stops logging the person, as the business's other tools do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from dagster_project.demo_exports.contact_formats import draw_emails, make_unique
from dagster_project.demo_exports.crm_export import salesforce_id
from dagster_project.demo_exports.delivery import DeliverySchedule
from dagster_project.demo_exports.experiments import ARMS, HORIZON_DAYS, Experiment, assigned_day
from dagster_project.demo_exports.formats import iso_utc
from dagster_project.demo_exports.order_buyers import shop_emails
from dagster_project.demo_exports.population import day_seconds
from dagster_project.demo_exports.timeline import SECONDS_PER_DAY, Timeline

ASSIGNMENT_COLUMNS = ["timestamp", "user_id", "experiment_id", "variation_id", "experiment_name"]
CONTACT_ID_SHARE = 0.15  # of the people with a CRM contact
TYPED_DIFFERENTLY_SHARE = 0.05  # of the rows keyed by email: other case or stray spaces
REPEAT_SHARE = 0.30
TWO_ARMS_SHARE = 0.003
UNKNOWN_ID_SHARE = 0.003  # rows with an id nobody has, per audience member
NAMELESS_SHARE = 0.08
EXPOSURE_KINDS = ("first", "repeat", "other_arm", "unknown_id")


@dataclass(frozen=True)
class AssignmentLog:
    """Exported rows, and per audience member (in plan order) what the truth needs."""

    rows: pl.DataFrame  # extract_offset, at, member (-1: unknown id), exposure and the contract columns
    assigned: np.ndarray  # false for people erased before the start: the tool never assigned them
    user_id: np.ndarray  # the id the tool keys each person by (before any case or spacing slips)
    in_two_arms: np.ndarray


def _user_ids(experiment: Experiment, people: pl.DataFrame, contacts: pl.DataFrame,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each member's id, and whether it is an email address: CRM people's own address (synced from
    the CRM) or, now and then, their Contact ID; shoppers outside the CRM, the address they check out with."""
    person = experiment.person
    primary = contacts.filter(pl.col("kind") == 0)
    contact_number = np.full(people.height, -1, dtype=np.int64)
    contact_number[primary["person_index"].to_numpy()] = primary["contact_number"].to_numpy()
    # The tool's audience is synced from the CRM: a CRM person is keyed by the address their contact
    # holds (slips included), or by the Contact ID when it holds none that could be mailed.
    crm_email = np.full(people.height, "", dtype=object)
    crm_email[primary["person_index"].to_numpy()] = primary["email"].fill_null("").str.strip_chars().to_numpy()
    in_crm = contact_number[person] >= 0
    email = np.where(in_crm, crm_email[person], shop_emails(people)[person])
    unmailable = in_crm & ~np.array([_mailable(address) for address in email], dtype=bool)
    by_contact = in_crm & ((rng.random(len(person)) < CONTACT_ID_SHARE) | unmailable)
    ids = np.array([salesforce_id(int(k)) if c else e
                    for k, c, e in zip(contact_number[person], by_contact, email)], dtype=object)
    return ids, ~by_contact


def _mailable(address: str) -> bool:
    local, at, domain = address.partition("@")
    return bool(local and at and "." in domain and " " not in address)


def _as_typed(email: str, style: int) -> str:
    return (email.upper(), email.title(), f" {email}", f"{email} ")[style % 4]


def _unknown_addresses(count: int, people: pl.DataFrame, contacts: pl.DataFrame,
                       rng: np.random.Generator) -> np.ndarray:
    """Plausible addresses that belong to nobody: names and countries of different people, mixed."""
    n = people.height
    first = people["first_name"].to_numpy()[rng.integers(0, n, size=count)]
    last = people["last_name"].to_numpy()[rng.integers(0, n, size=count)]
    country = people["country"].to_numpy()[rng.integers(0, n, size=count)]
    # Order addresses are people's own or alternative ones; every other address comes from a contact.
    taken = dict.fromkeys([*people["email"].str.to_lowercase(), *people["alternative_email"].str.to_lowercase(),
                           *contacts["email"].str.strip_chars().str.to_lowercase()], 0)
    return make_unique(draw_emails(first, last, country, rng), taken=taken)


def _repeat_exposures(experiment: Experiment, timeline: Timeline, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Member and time of the later exposures of about 30% of people: one to three on later days of their window."""
    n = len(experiment.person)
    repeats = np.where(rng.random(n) < REPEAT_SHARE, rng.integers(1, 4, size=n), 0)
    member = np.repeat(np.arange(n), repeats)
    day = assigned_day(experiment, timeline)[member] + rng.integers(1, HORIZON_DAYS, size=len(member))
    return member, timeline.day_start_epoch(day) + day_seconds(rng, len(member), peak_hour=14.0)


def _other_arm_exposures(experiment: Experiment, assigned: np.ndarray, erased: np.ndarray, timeline: Timeline,
                         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Member, time and arm of the tool's defect: a few people logged once more, in another arm,
    within a week, inside the window and before any erasure, so that the defect can be seen."""
    room = np.minimum(experiment.assigned_at + 7 * SECONDS_PER_DAY, timeline.window_end_epoch) - experiment.assigned_at
    candidates = np.flatnonzero(assigned & (erased < 0) & (room > 3600))
    wanted = max(1, round(TWO_ARMS_SHARE * int(assigned.sum()))) if assigned.any() else 0
    member = np.sort(rng.choice(candidates, size=min(wanted, len(candidates)), replace=False))
    at = experiment.assigned_at[member] + 60 + (rng.random(len(member)) * (room[member] - 60)).astype(np.int64)
    arm = (experiment.arm[member] + rng.integers(1, len(ARMS), size=len(member))) % len(ARMS)
    return member, at, arm


def log_assignments(experiment: Experiment, people: pl.DataFrame, contacts: pl.DataFrame, erased_at: np.ndarray,
                    timeline: Timeline, schedule: DeliverySchedule, rng: np.random.Generator) -> AssignmentLog:
    """Every exposure row the tool logged, as delivered: by extract day, nothing after an erasure."""
    n = len(experiment.person)
    erased = erased_at[experiment.person]
    assigned = ~((erased >= 0) & (erased < timeline.day_start_epoch(experiment.start_day)))
    user_id, by_email = _user_ids(experiment, people, contacts, rng)
    repeater, repeat_at = _repeat_exposures(experiment, timeline, rng)
    twice, twice_at, twice_arm = _other_arm_exposures(experiment, assigned, erased, timeline, rng)
    unknown = max(1, round(UNKNOWN_ID_SHARE * int(assigned.sum()))) if assigned.any() else 0
    unknown_at = experiment.assigned_at[rng.integers(0, max(n, 1), size=unknown)] + rng.integers(60, 3600, size=unknown)
    unknown_arm = rng.integers(0, len(ARMS), size=unknown)
    member = np.concatenate([np.arange(n), repeater, twice, np.full(unknown, -1)]).astype(np.int64)
    at = np.concatenate([experiment.assigned_at, repeat_at, twice_at, unknown_at]).astype(np.int64)
    arm = np.concatenate([experiment.arm, experiment.arm[repeater], twice_arm, unknown_arm])
    kind = np.repeat(np.arange(len(EXPOSURE_KINDS)), [n, len(repeater), len(twice), unknown])
    ids = np.empty(len(member), dtype=object)
    ids[member < 0] = _unknown_addresses(unknown, people, contacts, rng)
    known = np.flatnonzero(member >= 0)
    retyped = (rng.random(len(member)) < TYPED_DIFFERENTLY_SHARE)[known] & by_email[member[known]]
    styles = rng.integers(0, 4, size=len(member))[known]
    ids[known] = [_as_typed(user_id[m], style) if slip else user_id[m]
                  for m, style, slip in zip(member[known], styles, retyped)]
    named = rng.random(len(member)) >= NAMELESS_SHARE
    cutoff = np.where(member >= 0, erased_at[experiment.person[np.maximum(member, 0)]], -1)
    offset = schedule.extract_offset("experiments", timeline.window_offset(at))
    rows = pl.DataFrame({
        "extract_offset": offset, "at": at, "member": member,
        "exposure": np.array(EXPOSURE_KINDS, dtype=object)[kind], "user_id": ids,
        "variation_id": np.array(ARMS, dtype=object)[arm], "named": named,
    }, schema_overrides={"exposure": pl.String, "user_id": pl.String, "variation_id": pl.String})
    rows = rows.filter(pl.Series((offset >= 0) & ((cutoff < 0) | (at <= cutoff)))).with_row_index("draw").sort(
        ["at", "draw"]).select(
        "extract_offset", "at", "member", "exposure", iso_utc(pl.col("at")).alias("timestamp"), "user_id",
        pl.lit(experiment.experiment_id).alias("experiment_id"), "variation_id",
        pl.when(pl.col("named")).then(pl.lit(experiment.name)).otherwise(pl.lit("")).alias("experiment_name"))
    in_two_arms = np.zeros(n, dtype=bool)
    in_two_arms[twice] = True
    return AssignmentLog(rows=rows, assigned=assigned, user_id=user_id, in_two_arms=in_two_arms)
