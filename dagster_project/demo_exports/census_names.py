"""US first and last names at their 1990 Census frequencies, read from the data files that the
`names` package ships (public-domain Census Bureau lists: 88,799 surnames held by 80% of people,
1,219 male and 4,275 female first names held by 90%). This module is the one place that reads them.

Why not Faker's en_US lists: they hold 1,000 surnames and 690 first names, so the chance that two
people share a full name (the product of the sums of squared name frequencies, 0.0033 x 0.0051) is
four times the census lists' (0.0011 x 0.0035). At 100,000 people, 42% of the demo's people shared
their full name with someone against 15% when drawn from the census lists: namesakes far denser
than in any real customer base, which told identity resolution a harder story than reality's.

The census lists are renormalized over the people they cover. That overstates each listed name's
share (the 20% of people outside the surname list bear rarer names; had each a name of their own,
10% would share a full name), so namesakes come out more often than in reality, never less.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np


@dataclass(frozen=True)
class NameFrequencies:
    """Names (an object array of str) and the probability of each (summing to 1)."""

    names: np.ndarray
    probabilities: np.ndarray

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.names[rng.choice(len(self.names), size=size, p=self.probabilities)]

    @classmethod
    def uniform(cls, names: np.ndarray) -> NameFrequencies:
        return cls(names, np.full(len(names), 1.0 / len(names)))


def _read_census_list(file_name: str) -> tuple[list[str], np.ndarray]:
    """(name, percent of people) per line of one of the package's `dist.*` files: `SMITH  1.006  1.006  1`."""
    rows = [line.split() for line in (files("names") / file_name).read_text(encoding="ascii").splitlines() if line.strip()]
    if not rows or any(len(row) != 4 for row in rows):
        raise ValueError(f"names/{file_name} is not the Census list it used to be (name, percent, cumulative percent, rank)")
    return [row[0] for row in rows], np.array([float(row[1]) for row in rows])


def _written(census_name: str) -> str:
    """The census's upper-case spelling as people type it: SMITH -> Smith, MCDONALD -> McDonald."""
    return re.sub(r"^Mc([a-z])", lambda match: "Mc" + match.group(1).upper(), census_name.capitalize())


@cache
def census_last_names() -> NameFrequencies:
    """US surnames at their census frequency."""
    names, percent = _read_census_list("dist.all.last")
    return NameFrequencies(np.array([_written(name) for name in names], dtype=object), percent / percent.sum())


@cache
def census_first_names() -> NameFrequencies:
    """US first names at their census frequency, men and women in equal number."""
    shares: dict[str, float] = {}
    for file_name in ("dist.male.first", "dist.female.first"):
        names, percent = _read_census_list(file_name)
        for name, share in zip(names, percent / percent.sum()):
            shares[_written(name)] = shares.get(_written(name), 0.0) + share / 2
    return NameFrequencies(np.array(list(shares), dtype=object), np.array(list(shares.values())))
