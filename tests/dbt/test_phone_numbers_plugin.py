"""The dbt-duckdb plugin behind phone_e164, tested as plain Python and as a DuckDB function."""

import importlib.util
from pathlib import Path

import duckdb
import pytest

PLUGIN_PATH = Path(__file__).resolve().parents[2] / "dbt" / "plugins" / "phone_numbers.py"
_spec = importlib.util.spec_from_file_location("phone_numbers", PLUGIN_PATH)
phone_numbers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(phone_numbers)


@pytest.mark.parametrize(("raw_phone", "region", "expected"), [
    ("(415) 555-0132", "US", "+14155550132"),   # US national, punctuated
    ("+1 415 555 0132", "US", "+14155550132"),  # international
    ("415.555.0132", "US", "+14155550132"),     # dotted
    ("4155550132", "US", "+14155550132"),       # bare digits
    ("4155550132", None, "+14155550132"),       # no region: US by default
    ("020 7946 0958", "GB", "+442079460958"),   # UK national with the UK region
    ("+44 20 7946 0958", "US", "+442079460958"),  # an explicit country code beats the region
    ("020 7946 0958", "US", None),              # a UK number read as US is not valid
    ("12345", "US", None),                      # too short
    ("call me", "US", None),                    # not a number
    ("  ", "US", None),                         # blank
    (None, "US", None),                         # missing
    ("4155550132", "ZZ", None),                 # unknown region and no country code
])
def test_phones_are_formatted_as_e164_or_none(raw_phone, region, expected):
    assert phone_numbers.format_phone_e164(raw_phone, region) == expected


def test_registered_function_formats_a_column_with_nulls():
    with duckdb.connect() as conn:
        phone_numbers.register_phone_functions(conn)
        rows = conn.execute(
            "select phone_e164(phone, region) from (values ('415.555.0132', 'US'), (null, 'US'), "
            "('020 7946 0958', 'GB'), ('4155550132', null)) as t(phone, region)"
        ).fetchall()
    assert rows == [("+14155550132",), (None,), ("+442079460958",), ("+14155550132",)]
