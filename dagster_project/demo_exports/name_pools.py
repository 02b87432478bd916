"""Pools of names, streets and localities per country.

US names come at their census frequencies (`census_names`: many Smiths, many Johns, and the long
tail of rare names that keeps namesakes as rare as in reality). Other countries' names, and every
country's streets and localities, are a pool of a few thousand drawn once from Faker, which samples
by frequency where its locale knows one, then sampled uniformly with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faker import Faker

from dagster_project.demo_exports.census_names import NameFrequencies, census_first_names, census_last_names

COUNTRIES = ("US", "CA", "GB", "DE", "FR")
COUNTRY_SHARES = (0.80, 0.07, 0.06, 0.04, 0.03)
CURRENCY_OF_COUNTRY = {"US": "USD", "CA": "CAD", "GB": "GBP", "DE": "EUR", "FR": "EUR"}
COUNTRY_NAMES = {
    "US": "United States",
    "CA": "Canada",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
}
_LOCALES = {"US": "en_US", "CA": "en_CA", "GB": "en_GB", "DE": "de_DE", "FR": "fr_FR"}


@dataclass(frozen=True)
class CountryPool:
    """Candidate values for the people of one country (object arrays of str)."""

    first_names: NameFrequencies
    last_names: NameFrequencies
    street_names: np.ndarray
    cities: np.ndarray
    provinces: np.ndarray
    postcodes: np.ndarray
    apartments: np.ndarray


def _draw(faker_method, size: int) -> np.ndarray:
    return np.array([faker_method() for _ in range(size)], dtype=object)


def _localities(faker: Faker, country: str, size: int) -> tuple[np.ndarray, ...]:
    """(city, province, postcode) triples whose postcode fits the province where Faker can."""
    cities, provinces, postcodes = [], [], []
    for _ in range(size):
        cities.append(faker.city())
        if country == "US":
            state = faker.state_abbr(include_territories=False, include_freely_associated_states=False)
            provinces.append(state)
            postcodes.append(faker.zipcode_in_state(state))
        elif country == "CA":
            province = faker.province_abbr()
            provinces.append(province)
            postcodes.append(faker.postcode_in_province(province))
        else:
            # UK, German and French addresses are written without a region in practice.
            provinces.append("")
            postcodes.append(faker.postcode())
    return (np.array(cities, dtype=object), np.array(provinces, dtype=object),
            np.array(postcodes, dtype=object))


def build_pools(people_per_country: dict[str, int], rng: np.random.Generator) -> dict[str, CountryPool]:
    """Draw the pools, sized to the number of people of each country."""
    pools: dict[str, CountryPool] = {}
    for country in COUNTRIES:
        faker = Faker(_LOCALES[country])
        faker.seed_instance(int(rng.integers(0, 2**31 - 1)))
        count = people_per_country.get(country, 0)
        name_pool = int(np.clip(count, 200, 5000))
        place_pool = int(np.clip(count // 4, 100, 2000))
        apartments = _draw(faker.secondary_address, 200) if country in ("US", "CA") else np.array([], dtype=object)
        cities, provinces, postcodes = _localities(faker, country, place_pool)
        if country == "US":
            first_names, last_names = census_first_names(), census_last_names()
        else:
            first_names = NameFrequencies.uniform(_draw(faker.first_name, name_pool))
            last_names = NameFrequencies.uniform(_draw(faker.last_name, name_pool))
        pools[country] = CountryPool(
            first_names=first_names,
            last_names=last_names,
            street_names=_draw(faker.street_name, place_pool),
            cities=cities,
            provinces=provinces,
            postcodes=postcodes,
            apartments=apartments,
        )
    return pools


def draw_company_names(size: int, rng: np.random.Generator) -> np.ndarray:
    """Company names for the few people who share a generic work mailbox."""
    faker = Faker("en_US")
    faker.seed_instance(int(rng.integers(0, 2**31 - 1)))
    return _draw(faker.last_name, size)
