"""Regenerate seeds/country_codes.csv: country names and aliases (as found in exports) -> ISO 3166-1 alpha-2.

Names come from the Unicode CLDR data shipped with `babel` (a dbt dependency, via agate), in
English, the main languages of our customers and each country's own official languages (Latin
script only); hand-written aliases (ISO alpha-3 codes, old and colloquial names) are added on top.
A key that would map to two countries after normalisation keeps the higher-priority source only.
Run: uv run python dbt/scripts/generate_country_codes.py
"""

import csv
import re
import unicodedata
from pathlib import Path

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages

SEED_PATH = Path(__file__).resolve().parents[1] / "seeds" / "country_codes.csv"
TRANSLATION_LANGUAGES = ["de", "fr", "es", "it", "nl", "pt"]
# ISO 3166-1 codes phonenumbers has no phone metadata for (uninhabited territories).
EXTRA_ISO_CODES = {"AQ", "BV", "GS", "HM", "PN", "TF", "UM"}
HAND_ALIASES = {
    "US": ["USA", "U.S.", "U.S.A.", "United States of America", "United States (USA)"],
    "GB": ["UK", "U.K.", "GBR", "Great Britain", "Britain", "England", "Scotland", "Wales",
           "Northern Ireland", "United Kingdom of Great Britain and Northern Ireland"],
    "DE": ["DEU", "Federal Republic of Germany", "Bundesrepublik Deutschland"],
    "FR": ["FRA"], "CA": ["CAN"], "AU": ["AUS"], "NZ": ["NZL"], "IE": ["IRL", "Eire"],
    "ES": ["ESP"], "IT": ["ITA"], "NL": ["NLD", "Holland", "The Netherlands"], "BE": ["BEL"],
    "CH": ["CHE"], "AT": ["AUT"], "SE": ["SWE"], "NO": ["NOR"], "DK": ["DNK"], "FI": ["FIN"],
    "PL": ["POL"], "PT": ["PRT"], "GR": ["GRC"], "LU": ["LUX"], "MX": ["MEX"], "BR": ["BRA"],
    "AR": ["ARG"], "CL": ["CHL"], "CO": ["COL"], "JP": ["JPN"], "CN": ["CHN", "PRC"],
    "IN": ["IND"], "SG": ["SGP"], "ZA": ["ZAF"], "IL": ["ISR"],
    "KR": ["KOR", "Korea", "Republic of Korea"], "RU": ["RUS", "Russian Federation"],
    "AE": ["UAE", "U.A.E.", "ARE"], "CZ": ["CZE", "Czech Republic"], "TR": ["TUR", "Turkey"],
    "HK": ["HKG", "Hong Kong"], "MO": ["Macau", "Macao"], "TW": ["TWN"],
    "VN": ["Viet Nam"], "CI": ["Ivory Coast"], "MK": ["Macedonia"], "SZ": ["Swaziland"],
    "MM": ["Burma"], "PS": ["Palestine"], "VA": ["Vatican", "Holy See"], "LA": ["Laos"],
    "SY": ["Syria"], "IR": ["Iran"], "BO": ["Bolivia"], "VE": ["Venezuela"], "TZ": ["Tanzania"],
    "MD": ["Moldova"], "BN": ["Brunei"], "CD": ["DR Congo", "Democratic Republic of the Congo"],
    "CG": ["Republic of the Congo"], "CV": ["Cabo Verde"],
}


def normalize_country_key(value: str) -> str:
    """Mirror of the dbt macro normalize_country_key, used here only to detect collisions."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char)).lower()
    stripped = re.sub(r"[.'’]", "", stripped)
    return re.sub(r"[^a-z0-9]+", " ", stripped).strip()


def list_country_aliases() -> list[tuple[str, str]]:
    """Return (alias, country_code) pairs in priority order, highest first."""
    codes = sorted(phonenumbers.SUPPORTED_REGIONS | EXTRA_ISO_CODES)
    english = Locale("en").territories
    pairs = [(code, code) for code in codes]
    pairs += [(alias, code) for code, aliases in HAND_ALIASES.items() for alias in aliases]
    pairs += [(english[code], code) for code in codes]
    for code in codes:
        for language in TRANSLATION_LANGUAGES + list(get_official_languages(code)):
            try:
                name = Locale.parse(language).territories.get(code)
            except (UnknownLocaleError, ValueError):
                continue
            if name and normalize_country_key(name).replace(" ", "").isascii():
                pairs.append((name, code))
    return pairs


def write_seed() -> None:
    """Write the seed, one row per distinct alias, dropping lower-priority colliding aliases."""
    code_by_key: dict[str, str] = {}
    rows: list[tuple[str, str]] = []
    for alias, code in list_country_aliases():
        key = normalize_country_key(alias)
        if not key or code_by_key.get(key, code) != code:
            continue
        if key not in code_by_key:
            rows.append((alias, code))
        code_by_key[key] = code
    with SEED_PATH.open("w", newline="", encoding="utf-8") as seed:
        writer = csv.writer(seed, lineterminator="\n")
        writer.writerow(["country_alias", "country_code"])
        writer.writerows(sorted(rows, key=lambda row: (row[1], row[0])))


if __name__ == "__main__":
    write_seed()
