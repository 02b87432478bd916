"""How real registries garble a person's record, at configurable rates, with a tag per slip.

Typos, nicknames and accents are drawn by `name_noise`; this module adds what public
record-linkage benchmarks (FEBRL, for one) show and our generator lacked: a first name left empty
or cut to an initial, first and last name swapped, a birth date with one digit wrong, day and
month swapped, the year off by one, another date altogether or missing, streets and postcodes with typos, abbreviated or
spelt-out street types, a unit number added, a street number left out, and one part of a
compound surname. Every slip is recorded per record as a tag that `_truth/` keeps, so identity
resolution can be scored by kind of slip.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from dagster_project.demo_exports.name_noise import one_character_edit

# Tags of the truth (`_truth/source_records.parquet`, column `corruptions`).
MISSING_FIELD = "missing_field"
SWAP = "swap"
TYPO = "typo"
BIRTHDATE_ERROR = "birthdate_error"
ADDRESS_VARIANT = "address_variant"
COMPOUND_SURNAME = "compound_surname"
NICKNAME = "nickname"

_STREET_TYPES = {"st": "street", "street": "st", "ave": "avenue", "avenue": "ave", "rd": "road", "road": "rd",
                 "dr": "drive", "drive": "dr", "ln": "lane", "lane": "ln", "blvd": "boulevard", "ct": "court",
                 "court": "ct", "pl": "place", "place": "pl", "way": "wy"}


@dataclass(frozen=True)
class RecordCorruption:
    """Per-record probability of each slip (names typed by hand, forms filled in a hurry)."""

    missing_first_name: float = 0.02
    initial_only: float = 0.015
    swapped_names: float = 0.01
    birthdate_digit: float = 0.01
    birthdate_day_month_swap: float = 0.008
    birthdate_year_off: float = 0.005
    birthdate_missing: float = 0.03
    birthdate_replaced: float = 0.005
    """Another date altogether (someone else's, or typed from the wrong form): FEBRL 4 has 194 of its
    5,000 true pairs with two unrelated birthdates, so a birthdate that disagrees is no proof of two people."""
    street_typo: float = 0.02
    postcode_typo: float = 0.01
    street_type_variant: float = 0.05
    unit_added: float = 0.01
    street_number_missing: float = 0.01
    compound_surname_part: float = 0.3
    """Of records of people with a compound surname: one part only, or the parts without a hyphen."""

    def scaled(self, factor: float) -> RecordCorruption:
        """Every rate times `factor` (0 turns the slips off), capped at 1."""
        return replace(self, **{f.name: min(1.0, getattr(self, f.name) * factor) for f in fields(self)})


@dataclass(frozen=True)
class Names:
    first: np.ndarray
    last: np.ndarray
    tags: list[set[str]]


def corrupt_names(first: np.ndarray, last: np.ndarray, rates: RecordCorruption, rng: np.random.Generator) -> Names:
    """Copies of the name arrays with names left empty, cut to an initial, swapped, or a compound
    surname written in part; each record's tags say which."""
    n = len(first)
    first, last = first.copy(), last.copy()
    tags: list[set[str]] = [set() for _ in range(n)]
    draws = rng.random((n, 4))
    part = rng.integers(0, 3, size=n)
    for i in range(n):
        family = last[i] or ""
        if ("-" in family or " " in family.strip()) and draws[i, 3] < rates.compound_surname_part:
            parts = family.replace("-", " ").split()
            last[i] = [parts[0], parts[-1], " ".join(parts)][part[i]]
            tags[i].add(COMPOUND_SURNAME)
        if draws[i, 0] < rates.missing_first_name:
            first[i] = ""
            tags[i].add(MISSING_FIELD)
        elif draws[i, 0] < rates.missing_first_name + rates.initial_only and first[i]:
            first[i] = first[i].strip()[:1] + ("." if part[i] else "")
            tags[i].add(MISSING_FIELD)
        if draws[i, 1] < rates.swapped_names:
            first[i], last[i] = last[i], first[i]
            tags[i].add(SWAP)
    return Names(first, last, tags)


def corrupt_birthdates(birthdate: np.ndarray, rates: RecordCorruption,
                       rng: np.random.Generator) -> tuple[np.ndarray, list[set[str]]]:
    """`datetime64[D]` birth dates with slips (NaT when left empty) and each record's tags."""
    n = len(birthdate)
    out = birthdate.copy()
    tags: list[set[str]] = [set() for _ in range(n)]
    draw = rng.random(n)
    digit = rng.integers(0, 10, size=(n, 2))
    edges = np.cumsum([rates.birthdate_missing, rates.birthdate_digit, rates.birthdate_day_month_swap,
                       rates.birthdate_year_off, rates.birthdate_replaced])
    for i in np.flatnonzero(draw < edges[-1]):
        if np.isnat(birthdate[i]):
            continue
        year, month, day = (int(part) for part in str(birthdate[i]).split("-"))
        if draw[i] < edges[0]:
            out[i] = np.datetime64("NaT")
            tags[i].add(MISSING_FIELD)
            continue
        if draw[i] < edges[1]:
            # One digit of the day or the year typed wrong, where it still makes a date.
            candidates = [(year, month, day // 10 * 10 + digit[i, 0]), (year // 10 * 10 + digit[i, 1], month, day)]
        elif draw[i] < edges[2]:
            candidates = [(year, day, month)]
        elif draw[i] < edges[3]:
            candidates = [(year + (1 if digit[i, 0] % 2 else -1), month, day)]
        else:
            # One to 25 years away, from the draw's own further digits: this slip takes nothing more
            # from the generator, so the rest of the data is what it was without it.
            offset = np.timedelta64(365 + int(draw[i] * 1e12) % 9_000, "D")
            other = birthdate[i] - offset if year >= 1950 else birthdate[i] + offset
            candidates = [tuple(int(part) for part in str(other).split("-"))]
        for y, m, d in candidates:
            try:
                slipped = np.datetime64(f"{y:04d}-{m:02d}-{d:02d}")
            except ValueError:
                continue
            if slipped != birthdate[i]:
                out[i] = slipped
                tags[i].add(BIRTHDATE_ERROR)
                break
    return out, tags


def corrupt_streets(street: np.ndarray, postcode: np.ndarray, rates: RecordCorruption,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[set[str]]]:
    """Streets and postcodes with typos, street-type variants, a unit added or the number left out."""
    n = len(street)
    street, postcode = street.copy(), postcode.copy()
    tags: list[set[str]] = [set() for _ in range(n)]
    draws = rng.random((n, 6))
    choice = rng.integers(0, 1 << 30, size=(n, 2))
    for i in range(n):
        if not street[i]:
            continue
        words = street[i].split(" ")
        if draws[i, 0] < rates.street_type_variant:
            swapped = [_STREET_TYPES.get(word.lower().rstrip("."), word) for word in words]
            if swapped != words:
                words = swapped
                tags[i].add(ADDRESS_VARIANT)
        if draws[i, 1] < rates.street_number_missing and len(words) > 1 and any(ch.isdigit() for ch in words[0]):
            words = words[1:]
            tags[i].add(ADDRESS_VARIANT)
        text = " ".join(words)
        if draws[i, 2] < rates.unit_added:
            text = f"{text}, Unit {1 + choice[i, 0] % 40}"
            tags[i].add(ADDRESS_VARIANT)
        if draws[i, 3] < rates.street_typo:
            longest = max(range(len(words)), key=lambda k: len(words[k]))
            words = text.split(" ")
            if longest < len(words) and len(words[longest]) >= 3:
                words[longest] = one_character_edit(words[longest], int(choice[i, 1] % 4), float(draws[i, 5]),
                                                    int(choice[i, 1] // 4 % 26))
                text = " ".join(words)
                tags[i].add(TYPO)
        street[i] = text
        if draws[i, 4] < rates.postcode_typo and postcode[i] and len(postcode[i]) >= 3:
            postcode[i] = _postcode_typo(postcode[i], int(choice[i, 0]))
            tags[i].add(TYPO)
    return street, postcode, tags


def _postcode_typo(postcode: str, draw: int) -> str:
    """A digit typed wrong or two neighbouring characters swapped."""
    position = 1 + draw % (len(postcode) - 1)
    if draw // 7 % 2 and postcode[position - 1] != postcode[position]:
        return postcode[: position - 1] + postcode[position] + postcode[position - 1] + postcode[position + 1 :]
    if postcode[position].isdigit():
        return postcode[:position] + str((int(postcode[position]) + 1 + draw // 14 % 9) % 10) + postcode[position + 1 :]
    return postcode[:position] + postcode[position - 1] + postcode[position + 1 :]


def add_compound_surnames(last: np.ndarray, country: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """A share of people carry two family names of their country, hyphenated or not."""
    last = last.copy()
    chosen = np.flatnonzero(rng.random(len(last)) < share)
    for i, hyphen in zip(chosen, rng.random(len(chosen)) < 0.6):
        pool = np.flatnonzero(country == country[i])
        other = last[pool[rng.integers(0, len(pool))]]
        if other != last[i] and "-" not in other and " " not in other:
            last[i] = f"{last[i]}{'-' if hyphen else ' '}{other}"
    return last


def name_slip_tags(true_first: np.ndarray, true_last: np.ndarray, first: np.ndarray, last: np.ndarray,
                   nicknames: dict[str, tuple[str, ...]]) -> list[set[str]]:
    """Which slips `name_noise` made: a nickname, or a typo (case, spacing and accents do not count)."""
    from dagster_project.demo_exports.name_noise import strip_accents

    def plain(text: str | None) -> str:
        return strip_accents((text or "").strip().lower())

    tags: list[set[str]] = []
    for given, family, shown_given, shown_family in zip(true_first, true_last, first, last):
        record: set[str] = set()
        if plain(shown_given) in {plain(name) for name in nicknames.get(given, ())}:
            record.add(NICKNAME)
        elif plain(shown_given) != plain(given):
            record.add(TYPO)
        if plain(shown_family) != plain(family):
            record.add(TYPO)
        tags.append(record)
    return tags


def merge_tags(*tag_lists: list[set[str]]) -> list[str]:
    """Per record, its tags as one comma-separated string (empty for a clean record)."""
    return [",".join(sorted(set().union(*tags))) for tags in zip(*tag_lists)]
