"""Feature values encoded as Feast's `Value` protobuf bytes, a column at a time.

Feast's own materialization builds one `Value` message per cell through a generic type-dispatching
converter, and that conversion is most of its time. A column here is encoded by one function
chosen once for its type, with the bytes of repeated values (counts, categories, flags) cached.
The bytes are exactly what `Value(<kind>_val=x).SerializeToString()` gives; a null is the empty
message, as in Feast.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from feast.types import Bool, FeastType, Float64, Int64, String, UnixTimestamp

# Field numbers of feast.types.Value's `val` oneof, as wire-format tags.
_STRING_TAG = b"\x12"             # string_val = 2, length-delimited
_INT64_TAG = b"\x20"              # int64_val = 4, varint
_DOUBLE = struct.Struct("<Bd")    # double_val = 5, 64-bit
_BOOL = {True: b"\x38\x01", False: b"\x38\x00"}  # bool_val = 7
_TIMESTAMP_TAG = b"\x40"          # unix_timestamp_val = 8, varint
NULL = b""


def _varint(number: int) -> bytes:
    """Protobuf varint of a signed 64-bit integer (negative ones as their two's complement)."""
    number &= 0xFFFF_FFFF_FFFF_FFFF
    out = bytearray()
    while number > 0x7F:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _cached(encode: Callable[[object], bytes]) -> Callable[[object], bytes]:
    cache: dict[object, bytes] = {}

    def encode_cached(value: object) -> bytes:
        encoded = cache.get(value)
        if encoded is None:
            encoded = cache[value] = encode(value)
        return encoded

    return encode_cached


def _timestamp_seconds(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp())


def _encoder(dtype: FeastType) -> tuple[Callable[[object], bytes], Callable[[object], str | None]]:
    """(value -> Value bytes, value -> the `value_text` Feast's SQL stores keep) for a non-null value."""
    if dtype == Int64:
        return _cached(lambda value: _INT64_TAG + _varint(value)), str
    if dtype == Float64:
        return (lambda value: _DOUBLE.pack(0x29, value)), str
    if dtype == Bool:
        return _BOOL.__getitem__, str
    if dtype == String:
        def encode_string(value: str) -> bytes:
            raw = value.encode("utf-8")
            return _STRING_TAG + _varint(len(raw)) + raw
        return _cached(encode_string), str
    if dtype == UnixTimestamp:
        return (lambda value: _TIMESTAMP_TAG + _varint(_timestamp_seconds(value))), (lambda value: None)
    raise TypeError(f"No online encoding for Feast type {dtype}")


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def encode_column(values: Sequence[object], dtype: FeastType) -> tuple[list[bytes], list[str | None]]:
    """The `Value` bytes of each cell of a column, and each cell's text form (None for nulls and
    timestamps, as Feast's SQLite store keeps them)."""
    encode, text = _encoder(dtype)
    encoded, texts = [], []
    for value in values:
        if _is_null(value):
            encoded.append(NULL)
            texts.append(None)
        else:
            encoded.append(encode(value))
            texts.append(text(value))
    return encoded, texts
