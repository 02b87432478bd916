"""dbt-duckdb plugin that registers `phone_e164(raw_phone, region)` on dbt's DuckDB connection."""

from functools import lru_cache

import phonenumbers
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.func import ARROW, SPECIAL
from duckdb.sqltypes import VARCHAR

DEFAULT_REGION = "US"


@lru_cache(maxsize=1_000_000)
def format_phone_e164(raw_phone: str | None, region: str | None) -> str | None:
    """Return the E.164 form of a free-format phone, or None when it is not a valid number."""
    if raw_phone is None or not raw_phone.strip():
        return None
    try:
        number = phonenumbers.parse(raw_phone, region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phones_e164(raw_phones: pa.Array, regions: pa.Array) -> pa.Array:
    """Vectorised form for DuckDB: one Python call per chunk, one parse per distinct pair."""
    return pa.array(
        [format_phone_e164(phone, region) for phone, region in zip(raw_phones.to_pylist(), regions.to_pylist())],
        type=pa.string(),
    )


def register_phone_functions(conn: DuckDBPyConnection) -> None:
    """Register `phone_e164` on a DuckDB connection (also used by tests and benchmarks)."""
    conn.create_function(
        "phone_e164",
        format_phones_e164,
        [VARCHAR, VARCHAR],
        VARCHAR,
        type=ARROW,
        null_handling=SPECIAL,
    )


class Plugin(BasePlugin):
    """Makes `phone_e164` available to every model dbt runs."""

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        register_phone_functions(conn)
