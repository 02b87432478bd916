{#
  A feature snapshot column that an earlier cxp stored as separator-joined text becomes a list in
  place, before the model's incremental insert: the snapshots are history built night by night, so
  a full refresh (dbt's answer to a type change) would lose it. Renders nothing on a fresh build or
  once the column is a list.
#}
{% macro convert_text_column_to_list(column, separator) %}
  {%- if is_incremental() -%}
    {%- for existing in adapter.get_columns_in_relation(this) if existing.name == column and existing.dtype | lower in ('varchar', 'text') -%}
      alter table {{ this }} alter {{ column }} set data type varchar[] using (
        case when {{ column }} is null then null when {{ column }} = '' then []::varchar[] else string_split({{ column }}, '{{ separator }}') end
      )
    {%- endfor -%}
  {%- endif -%}
{% endmacro %}
