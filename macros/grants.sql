{#- Access control (PostgreSQL; DuckDB has no roles, so these are no-ops there).

    Table-level read access comes from dbt `grants` (dbt_project.yml): the BI
    roles read every mart, the reverse-ETL roles only the three membership
    marts. Marts that hold personal identifiers get no table-level grant; this
    post-hook grants the BI roles the columns not tagged `meta: {pii: true}`. -#}
{% macro grant_non_pii_columns(roles) -%}
    {{ return(adapter.dispatch('grant_non_pii_columns', 'behavioral_segmentation')(roles)) }}
{%- endmacro %}

{% macro default__grant_non_pii_columns(roles) -%}
    select 1
{%- endmacro %}

{% macro postgres__grant_non_pii_columns(roles) -%}
    {%- set readable = [] -%}
    {%- for name, column in model.columns.items() -%}
        {%- set meta = column.get('meta', {}) or {} -%}
        {%- set config_meta = (column.get('config', {}) or {}).get('meta', {}) or {} -%}
        {%- if not (meta.get('pii') or config_meta.get('pii')) -%}
            {%- do readable.append(adapter.quote(name)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if readable and roles -%}
        grant select ({{ readable | join(', ') }}) on {{ this }} to {{ roles | join(', ') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Schema usage for the reader roles (on-run-end): the marts schema only.
    Nothing is granted on raw, reference, staging or intermediate. -#}
{% macro grant_marts_schema_usage() -%}
    {{ return(adapter.dispatch('grant_marts_schema_usage', 'behavioral_segmentation')()) }}
{%- endmacro %}

{% macro default__grant_marts_schema_usage() -%}
    select 1
{%- endmacro %}

{% macro postgres__grant_marts_schema_usage() -%}
    {%- set roles = [
        env_var('SEGMENTATION_BI_ROLE', 'bi_reader'),
        env_var('SEGMENTATION_REVERSE_ETL_ROLE', 'reverse_etl'),
    ] -%}
    {%- if roles -%}
        grant usage on schema marts to {{ roles | join(', ') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
