{#- Typing raw text exactly as the export contract writes it (ingestion tolerates surrounding
    whitespace, so values are trimmed first). Ingestion has already quarantined every cell that
    does not parse, so these fail loudly rather than return NULL. -#}

{% macro parse_boolean(column) -%}
    case lower(trim({{ column }}))
        when '1' then true
        when 'true' then true
        when 'yes' then true
        when '0' then false
        when 'false' then false
        when 'no' then false
    end
{%- endmacro %}

{#- ISO 8601 UTC with optional fractional seconds (1-9 digits): 2024-03-05T10:15:00.000Z -#}
{% macro parse_utc_timestamp(column) -%}
    strptime(trim({{ column }}), ['%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m-%dT%H:%M:%S.%nZ', '%Y-%m-%dT%H:%M:%SZ'])
{%- endmacro %}

{#- Shopify local time with offset, 2024-03-05 10:15:00 -0500, as a UTC timestamp -#}
{% macro parse_offset_timestamp_as_utc(column) -%}
    timezone('UTC', strptime(trim({{ column }}), '%Y-%m-%d %H:%M:%S %z'))
{%- endmacro %}

{#- Unix seconds as a UTC timestamp, independent of the session time zone -#}
{% macro parse_unix_seconds(column) -%}
    make_timestamp(cast({{ column }} as bigint) * 1000000)
{%- endmacro %}

{#- Salesforce M/D/YYYY, month and day not necessarily zero-padded -#}
{% macro parse_us_date(column) -%}
    cast(strptime(trim({{ column }}), '%m/%d/%Y') as date)
{%- endmacro %}

{% macro parse_amount(column) -%}
    cast({{ column }} as decimal(18, 4))
{%- endmacro %}

{#- Splits delimited text into a list of trimmed, non-empty items; empty list when NULL -#}
{% macro split_to_list(column, delimiter) -%}
    coalesce(
        list_filter(
            list_transform(string_split({{ column }}, '{{ delimiter }}'), lambda item: trim(item)),
            lambda item: item <> ''
        ),
        []::varchar[]
    )
{%- endmacro %}

{#- A JSON value that is a string or a list of strings, as varchar[]; empty list when absent -#}
{% macro json_string_or_list(json_value) -%}
    {#- Parenthesised: DuckDB's -> binds more loosely than "is null" and "=" -#}
    case
        when ({{ json_value }}) is null or json_type(({{ json_value }})) = 'NULL' then []::varchar[]
        when json_type(({{ json_value }})) = 'ARRAY' then from_json(({{ json_value }}), '["VARCHAR"]')
        else [({{ json_value }}) ->> '$']
    end
{%- endmacro %}
