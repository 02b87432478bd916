"""The comparisons of the identity model: one per attribute, each a ladder of named levels.

Every level has a label, and every scored pair keeps the label of the level it fell in for each
comparison (`<comparison>_level`), so a decision can be explained in words ("first name: nickname
of the same name; birthdate: day and month swapped") and the over-merge guard can rest on what
the evidence says rather than on the sign of one weight.

The levels cover the ways real registries garble a person: typos, nicknames, initials, first and
last name swapped, a name missing, compound surnames, a birth date with one digit wrong, day and month swapped
or the year off by one, abbreviated or renumbered streets, postcode typos, and moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splink import comparison_level_library as cll
from splink import comparison_library as cl
from splink.internals.comparison_level_creator import ComparisonLevelCreator

NULL_LABEL = "missing"
DIFFERENT_LABEL = "different"


@dataclass(frozen=True)
class Level:
    label: str
    sql: str
    tf_column: str | None = None
    """Term-frequency adjusted on this column (exact levels: a rare name is stronger evidence)."""


@dataclass(frozen=True)
class Comparison:
    """A comparison's output name, its null condition and its levels, most specific first."""

    name: str
    null_sql: str
    levels: tuple[Level, ...]

    def splink(self) -> cl.CustomComparison:
        """The Splink comparison: null level, the levels, then `different` for everything else."""
        # Typed as CustomComparison's (invariant) list parameter.
        levels: list[ComparisonLevelCreator | dict[str, Any]] = [cll.CustomLevel(self.null_sql).configure(is_null_level=True)]
        for level in self.levels:
            custom = cll.CustomLevel(level.sql, label_for_charts=level.label)
            levels.append(custom.configure(tf_adjustment_column=level.tf_column) if level.tf_column else custom)
        levels.append(cll.ElseLevel())
        return cl.CustomComparison(output_column_name=self.name, comparison_levels=levels)

    def level_label_sql(self) -> str:
        """SQL naming the level of Splink's comparison vector value `gamma_<name>` (-1 null, 0 else)."""
        top = len(self.levels)
        cases = " ".join(f"when {top - i} then '{level.label.replace(chr(39), chr(39) * 2)}'" for i, level in enumerate(self.levels))
        return f"case gamma_{self.name} when -1 then '{NULL_LABEL}' {cases} else '{DIFFERENT_LABEL}' end"


def _both(column: str) -> str:
    return f"{column}_l is null or {column}_r is null"


def _one_edit_apart(left: str, right: str) -> str:
    """Damerau-Levenshtein distance at most 1, behind a cheap test it implies (length within one, first or
    last character kept): the distance is the model's costliest function, and most pairs fail the test."""
    return (f"abs(length({left}) - length({right})) <= 1 and ({left}[1] = {right}[1] or {left}[-1] = {right}[-1]) "
            f"and damerau_levenshtein({left}, {right}) <= 1")


def _formal_names_agree(left: str = "l", right: str = "r") -> str:
    return (f"(formal_first_name_{left} = formal_first_name_{right} "
            f"or list_has_any(first_name_forms_{left}, first_name_forms_{right}))")


def _cut_short(short: str, name: str) -> str:
    """`short` is `name` cut short: its initial ("j" for "jeanne") or its first letters ("chris" for
    "christopher"). Another name with the same initial ("susanne" for "stephen") is not."""
    return f"((length({short}) = 1 and {short} = {name}[1]) or starts_with({name}, {short}))"


def _nickname_with_typo(left: str = "l", right: str = "r") -> str:
    """One first name a typo away from a formal form of the other, a nickname ("lizzie", "elkizabeth"); not
    from the nickname itself ("mary" one edit from "mark" is two names). A list function per pair: only where
    cheaper tests have narrowed the pairs (in every level, over Splink's u-sample, it tripled scoring time)."""
    return " or ".join(
        f"len(list_filter(first_name_forms_{a}, lambda form: form != first_name_{a} and {_one_edit_apart('form', f'first_name_{b}')})) > 0"
        for a, b in ((left, right), (right, left))
    )


# The level of a surname alone in the first-name field (read by `match_selection`'s surname closure).
SURNAME_IN_PLACE_LABEL = "one name missing, the other in the other's place"

# One comparison for both names, as Splink's ForenameSurnameComparison: two records with first and
# last name swapped agree once, not twice, and "same last name, another first name" (a household)
# is a level of its own rather than two weights that pull apart.
NAME = Comparison(
    name="name",
    null_sql="(first_name_l is null or first_name_r is null) and (last_name_l is null or last_name_r is null)",
    levels=(
        Level("exact", "full_name_l = full_name_r", tf_column="full_name"),
        Level("first and last name swapped", "first_name_l = last_name_r and last_name_l = first_name_r"),
        Level("same last name, nickname of the same first name",
              f"last_name_l = last_name_r and ({_formal_names_agree()} or {_nickname_with_typo()})"),
        Level("one typo in one name",
              f"(first_name_l = first_name_r and {_one_edit_apart('last_name_l', 'last_name_r')}) "
              f"or (last_name_l = last_name_r and {_one_edit_apart('first_name_l', 'first_name_r')})"),
        Level("first initial only, last name alike",
              "(length(first_name_l) = 1 or length(first_name_r) = 1) and first_name_initial_l = first_name_initial_r "
              "and jaro_winkler_similarity(last_name_l, last_name_r) >= 0.92"),
        Level("both very similar", "jaro_winkler_similarity(first_name_l, first_name_r) >= 0.92 "
              "and jaro_winkler_similarity(last_name_l, last_name_r) >= 0.92"),
        Level("same last name, first name similar", "last_name_l = last_name_r "
              "and jaro_winkler_similarity(first_name_l, first_name_r) >= 0.8"),
        Level("same first name, last name similar", f"{_formal_names_agree()} "
              "and jaro_winkler_similarity(last_name_l, last_name_r) >= 0.8"),
        Level("one name missing, the other alike",
              "((first_name_l is null or first_name_r is null) and jaro_winkler_similarity(last_name_l, last_name_r) >= 0.88) "
              "or ((last_name_l is null or last_name_r is null) and jaro_winkler_similarity(first_name_l, first_name_r) >= 0.88)"),
        Level("first name alike, part of a compound last name",
              f"({_formal_names_agree()} or jaro_winkler_similarity(first_name_l, first_name_r) >= 0.88) "
              "and list_has_any(last_name_parts_l, last_name_parts_r)"),
        Level(SURNAME_IN_PLACE_LABEL,
              "(last_name_l is null and first_name_l = last_name_r) or (last_name_r is null and first_name_r = last_name_l) "
              "or (first_name_l is null and last_name_l = first_name_r) or (first_name_r is null and last_name_r = first_name_l)"),
        # "davies osborn" for "jessica davies osborn": no first name, the compound surname split across both fields.
        Level("the whole name is the other's compound last name",
              "(len(last_name_parts_r) > 1 and list_contains(last_name_parts_r, first_name_l) and list_contains(last_name_parts_r, last_name_l)) "
              "or (len(last_name_parts_l) > 1 and list_contains(last_name_parts_l, first_name_r) and list_contains(last_name_parts_l, last_name_r))"),
        Level("both similar", "jaro_winkler_similarity(first_name_l, first_name_r) >= 0.8 "
              "and jaro_winkler_similarity(last_name_l, last_name_r) >= 0.8"),
        Level("swapped, with typos", "jaro_winkler_similarity(first_name_l, last_name_r) >= 0.88 "
              "and jaro_winkler_similarity(last_name_l, first_name_r) >= 0.88"),
        Level("swapped, first name cut short or a nickname",
              f"(first_name_l = last_name_r and ({_cut_short('last_name_l', 'first_name_r')} or list_has_any(last_name_forms_l, first_name_forms_r))) "
              f"or (first_name_r = last_name_l and ({_cut_short('last_name_r', 'first_name_l')} or list_has_any(last_name_forms_r, first_name_forms_l)))"),
        Level("same first name, another last name", _formal_names_agree()),
        Level("same last name, another first name", "last_name_l = last_name_r"),
    ),
)

# Both first names known and not one name written differently (typo, nickname, initial, a surname
# alone in the first-name field, or first and last name swapped): the first half of the household
# guard. A swap counts only when the swapped record's last name could be the other's first name,
# written out, cut short or as a nickname ("bradley nick" is "nicholas bradley", "hinton betty" is
# "elizabeth hinton"; "king christopher" is not "jon king"), or when the record is the other's
# compound surname alone, split across both fields ("davies osborn" is "jessica davies osborn").
def _swapped_onto(left: str, right: str) -> str:
    return (f"((last_name_{right} = first_name_{left} or list_contains(last_name_parts_{right}, first_name_{left})) "
            f"and (last_name_{left} is null "
            f"or {_cut_short(f'last_name_{left}', f'first_name_{right}')} or jaro_winkler_similarity(last_name_{left}, first_name_{right}) >= 0.9 "
            f"or list_contains(last_name_parts_{left}, first_name_{right}) "
            f"or list_has_any(last_name_forms_{left}, first_name_forms_{right}) "
            f"or (len(last_name_parts_{right}) > 1 and list_contains(last_name_parts_{right}, last_name_{left}))))")


# Two spellings alike that are each a name many records bear (Jennifer and Jeanne, Marcus and Mary)
# are two names, not one with a typo: a slip gives a spelling few records share. "Many": at least
# `_ESTABLISHED_MIN_RECORDS`, and at least `_ESTABLISHED_MIN_SHARE` of the commoner spelling's count,
# so that a common name's frequent slip (thousands of Michaels, dozens of "micheal") stays a typo.
# `first_name_records` is the number of records with the first name, counted on the matching input.
_ESTABLISHED_MIN_RECORDS = 8
_ESTABLISHED_MIN_SHARE = 0.05


def _both_established_names() -> str:
    return (f"least(first_name_records_l, first_name_records_r) >= greatest({_ESTABLISHED_MIN_RECORDS}, "
            f"{_ESTABLISHED_MIN_SHARE} * greatest(first_name_records_l, first_name_records_r))")


FIRST_NAMES_DIFFER_SQL = (
    "first_name_l is not null and first_name_r is not null and not ("
    f"{_formal_names_agree()} or {_nickname_with_typo()} or {_swapped_onto('l', 'r')} or {_swapped_onto('r', 'l')} "
    "or ((length(first_name_l) = 1 or length(first_name_r) = 1) and first_name_initial_l = first_name_initial_r) "
    f"or (jaro_winkler_similarity(first_name_l, first_name_r) >= 0.8 and not coalesce({_both_established_names()}, false)))"
)

# The same test where one side's first name is only spelled in its email (`email_names.py`): the
# names seen on the two sides are not one name written differently (an initial that agrees, a
# typo, a nickname, or the name standing in the other's last-name field).
EMAIL_NAMES_DIFFER_SQL = (
    "(first_name_seen_in_email_l or first_name_seen_in_email_r) "
    "and first_name_seen_l is not null and first_name_seen_r is not null "
    "and case when length(first_name_seen_l) = 1 or length(first_name_seen_r) = 1 "
    "then first_name_seen_l[1] != first_name_seen_r[1] "
    "else not (list_has_any(first_name_seen_forms_l, first_name_seen_forms_r) "
    "or jaro_winkler_similarity(first_name_seen_l, first_name_seen_r) >= 0.9 "
    "or first_name_seen_l is not distinct from last_name_r or first_name_seen_r is not distinct from last_name_l) end"
)

BIRTHDATE = Comparison(
    name="birthdate",
    null_sql=_both("birthdate"),
    levels=(
        Level("exact", "birthdate_l = birthdate_r"),
        Level("day and month swapped", "day(birthdate_l) = month(birthdate_r) and month(birthdate_l) = day(birthdate_r) "
              "and year(birthdate_l) = year(birthdate_r)"),
        # One digit typed wrong or two neighbours swapped leaves the year, or the month and day, alone.
        Level("one digit apart", "(year(birthdate_l) = year(birthdate_r) or (month(birthdate_l) = month(birthdate_r) "
              "and day(birthdate_l) = day(birthdate_r))) "
              "and damerau_levenshtein(strftime(birthdate_l, '%Y%m%d'), strftime(birthdate_r, '%Y%m%d')) <= 1"),
        Level("year off by one", "month(birthdate_l) = month(birthdate_r) and day(birthdate_l) = day(birthdate_r) "
              "and abs(year(birthdate_l) - year(birthdate_r)) = 1"),
        Level("same year", "year(birthdate_l) = year(birthdate_r)"),
    ),
)
# Birthdate levels that count as the same date written with a slip.
AGREEING_BIRTHDATE_LEVELS = tuple(level.label for level in BIRTHDATE.levels[:4])

# One address comparison rather than street, postcode and city apart: the three agree or disagree
# together, and scoring them separately would count one fact three times.
ADDRESS = Comparison(
    name="address",
    null_sql="(postcode_l is null or postcode_r is null) and (street_l is null or street_r is null) "
             "and (city_l is null or city_r is null)",
    levels=(
        Level("same street and postcode", "street_l = street_r and postcode_l = postcode_r"),
        Level("street or postcode with a typo", "(jaro_winkler_similarity(street_l, street_r) >= 0.9 and postcode_l = postcode_r) "
              f"or (street_l = street_r and {_one_edit_apart('postcode_l', 'postcode_r')})"),
        Level("same street and city", "street_l = street_r and city_l = city_r"),
        Level("street and postcode each with a typo", "jaro_winkler_similarity(street_l, street_r) >= 0.9 "
              f"and {_one_edit_apart('postcode_l', 'postcode_r')}"),
        # A building or locality line on one record only, or the lines in another order ("7 ruthven st"
        # and "7 ruthven st walnut grove estate"): the same number and most of the street's words.
        Level("same number, street words shared", "house_number_l = house_number_r "
              "and len(list_intersect(street_words_l, street_words_r)) * 2 >= least(len(street_words_l), len(street_words_r)) + 1 "
              f"and (postcode_l = postcode_r or city_l = city_r or {_one_edit_apart('postcode_l', 'postcode_r')})"),
        Level("same street name, number differs or missing",
              "street_name_l = street_name_r and (postcode_l = postcode_r or city_l = city_r)"),
        Level("similar street, same postcode or city", "jaro_winkler_similarity(street_l, street_r) >= 0.8 "
              "and (postcode_l = postcode_r or city_l = city_r)"),
        Level("same postcode, street unknown", "postcode_l = postcode_r and (street_l is null or street_r is null)"),
        Level("same postcode, different street", "postcode_l = postcode_r"),
        Level("same city", "city_l = city_r"),
    ),
)

PHONE = Comparison(
    name="phone", null_sql=_both("phone_e164"),
    levels=(Level("exact", "phone_e164_l = phone_e164_r", tf_column="phone_e164"),),
)

# Exact only: addresses are built from names, so a similar address mostly repeats the name
# evidence (john.fernandez@ vs john.fernandez3@ are often two John Fernandezes).
EMAIL = Comparison(
    name="email", null_sql=_both("email"),
    levels=(Level("exact", "email_l = email_r", tf_column="email"),),
)

COMPARISONS = (NAME, BIRTHDATE, ADDRESS, PHONE, EMAIL)
