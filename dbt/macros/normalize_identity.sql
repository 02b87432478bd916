{#- Identity fields normalised for matching across sources. Each returns NULL for an empty value. -#}

{#- Trims and collapses every kind of whitespace (including no-break spaces) to single spaces -#}
{% macro clean_whitespace(column) -%}
    nullif(trim(regexp_replace({{ column }}, '[\s\pZ]+', ' ', 'g')), '')
{%- endmacro %}

{% macro normalize_email(column) -%}
    lower({{ clean_whitespace(column) }})
{%- endmacro %}

{#- A sane syntactic check, not RFC 5322: dot-separated local part, a dotted domain of
    letter/digit/hyphen labels and an alphabetic top-level domain. NULL when there is no email. -#}
{% macro is_valid_email(normalized_email) -%}
    case
        when ({{ normalized_email }}) is null then null
        else length({{ normalized_email }}) <= 254 and regexp_full_match(
            {{ normalized_email }},
            '[a-z0-9_%+''-]+(\.[a-z0-9_%+''-]+)*@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}'
        )
    end
{%- endmacro %}

{#- Lower-case letters that strip_accents leaves alone, written as people without them type them:
    "Spieß" is "spiess" on the other system, "Sørensen" "sorensen", "Łukasz" "lukasz". -#}
{% macro fold_letters(lowered) -%}
    replace(replace(replace(replace(replace(replace({{ lowered }}, 'ß', 'ss'), 'æ', 'ae'), 'ø', 'o'), 'œ', 'oe'), 'ł', 'l'), 'đ', 'd')
{%- endmacro %}

{#- Trimmed, whitespace collapsed, lower-case, accents stripped -#}
{#- Lower case without accents or periods: "J." is the initial J, "St. John" is "st john" -#}
{% macro normalize_name(column) -%}
    nullif(trim(regexp_replace(strip_accents({{ fold_letters('lower(' ~ clean_whitespace(column) ~ ')') }}), '[.]', '', 'g')), '')
{%- endmacro %}

{#- First word of a full name; the rest is the last name (keeps compound surnames whole) -#}
{% macro first_name_part(full_name) -%}
    nullif(split_part({{ full_name }}, ' ', 1), '')
{%- endmacro %}

{% macro last_name_part(full_name) -%}
    nullif(regexp_extract({{ full_name }}, '^\S+\s+(.*)$', 1), '')
{%- endmacro %}

{#- Upper-case without spaces; a US ZIP+4 (12345-6789 or 123456789) becomes its 5-digit ZIP.
    The country defaults to US, as it does for phone numbers. -#}
{% macro normalize_postcode(column, country_code) -%}
    case
        when coalesce({{ country_code }}, 'US') = 'US'
            and regexp_full_match(upper(regexp_replace({{ column }}, '[\s\pZ]+', '', 'g')), '[0-9]{5}-?[0-9]{4}')
            then left(regexp_replace({{ column }}, '[\s\pZ]+', '', 'g'), 5)
        else nullif(upper(regexp_replace({{ column }}, '[\s\pZ]+', '', 'g')), '')
    end
{%- endmacro %}

{#- Lookup key for country names and codes: lower-case, no accents, no dots or apostrophes,
    any other punctuation as a single space ("U.S." -> "us", "Côte d'Ivoire" -> "cote divoire") -#}
{% macro normalize_country_key(column) -%}
    nullif(
        trim(regexp_replace(
            regexp_replace(strip_accents(lower({{ column }})), '[.''’]', '', 'g'),
            '[^a-z0-9]+', ' ', 'g'
        )),
        ''
    )
{%- endmacro %}

{#- The seed as a lookup table keyed like normalize_country_key -#}
{% macro select_country_codes() -%}
    select distinct
        {{ normalize_country_key('country_alias') }} as country_key,
        country_code
    from {{ ref('country_codes') }}
{%- endmacro %}
