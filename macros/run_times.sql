{#- Wall-clock start of this dbt invocation (UTC, microseconds) as a SQL
    timestamp: the same value in every model of one run, increasing across runs. -#}
{% macro build_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
