{#- Dialect differences, one dispatched macro each (default = DuckDB-style SQL). -#}

{#- True when `expression` matches the POSIX regular expression `pattern` (a
    SQL string literal); letters in either case when ignore_case. -#}
{% macro regex_matches(expression, pattern, ignore_case=false) -%}
    {{ return(adapter.dispatch('regex_matches', 'behavioral_segmentation')(expression, pattern, ignore_case)) }}
{%- endmacro %}

{% macro default__regex_matches(expression, pattern, ignore_case=false) -%}
    regexp_matches({{ expression }}, {{ pattern }}{{ ", 'i'" if ignore_case }})
{%- endmacro %}

{% macro postgres__regex_matches(expression, pattern, ignore_case=false) -%}
    ({{ expression }} {{ '~*' if ignore_case else '~' }} {{ pattern }})
{%- endmacro %}

{#- A text expression compared byte by byte (PostgreSQL: C collation), so that
    fixed-width ISO dates compare in date order under any database collation. -#}
{% macro binary_text(expression) -%}
    {{ return(adapter.dispatch('binary_text', 'behavioral_segmentation')(expression)) }}
{%- endmacro %}

{% macro default__binary_text(expression) -%}
    {{ expression }}
{%- endmacro %}

{% macro postgres__binary_text(expression) -%}
    ({{ expression }} collate "C")
{%- endmacro %}

{#- True when the text `expression` is one of the literal `values` (a list of
    strings without quotes). DuckDB plans a long IN list as a join with a
    constant table; list_contains is about twice as fast per row there. -#}
{% macro in_text_values(expression, values) -%}
    {{ return(adapter.dispatch('in_text_values', 'behavioral_segmentation')(expression, values)) }}
{%- endmacro %}

{% macro default__in_text_values(expression, values) -%}
    {{ expression }} in ({% for value in values %}'{{ value }}'{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro duckdb__in_text_values(expression, values) -%}
    list_contains([{% for value in values %}'{{ value }}'{{ ", " if not loop.last }}{% endfor %}], {{ expression }})
{%- endmacro %}

{#- An ISO-8601 text timestamp as a UTC `timestamp` (no time zone); NULL when it
    cannot be parsed. Text without an offset is read as UTC. -#}
{% macro parse_timestamp(expression) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'behavioral_segmentation')(expression)) }}
{%- endmacro %}

{#- DuckDB: the collectors' two UTC shapes (YYYY-MM-DDTHH:MM:SS.mmmZ, the
    collector's received_at, and YYYY-MM-DDTHH:MM:SSZ, the most common client
    occurred_at; ASCII digits where the shape has digits, hours 00-23) go
    through one strptime; anything else through the general path. Same values
    (the shapes are UTC, a valid date parses the same both ways, an invalid one
    is NULL both ways; hour 24, which the general path reads as the next
    day's midnight, takes the general path), 3x faster at 10M rows. The shape
    test is a regular expression: 2-3x cheaper than the same test written
    with translate(); one strptime per shape, picked by length (a list of
    formats tried in turn took 60 % longer). -#}
{% macro duckdb__parse_timestamp(expression) -%}
    case
        when regexp_full_match(trim({{ expression }}), '[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}([.][0-9]{3})?Z')
            then case
                when length(trim({{ expression }})) = 24
                    then try_strptime(trim({{ expression }}), '%Y-%m-%dT%H:%M:%S.%gZ')
                else try_strptime(trim({{ expression }}), '%Y-%m-%dT%H:%M:%SZ')
            end
        else {{ default__parse_timestamp(expression) }}
    end
{%- endmacro %}

{% macro default__parse_timestamp(expression) -%}
    {%- set iso = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)?[ ]?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)?$'" -%}
    case
        when {{ regex_matches('trim(' ~ expression ~ ')', iso) }}
            then {{ adapter.dispatch('parse_iso_timestamp', 'behavioral_segmentation')('trim(' ~ expression ~ ')') }}
    end
{%- endmacro %}

{% macro default__parse_iso_timestamp(expression) -%}
    timezone('UTC', try_cast(
        case
            when {{ regex_matches(expression, "'(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$'") }} then {{ expression }}
            else {{ expression }} || '+00:00'
        end as timestamptz
    ))
{%- endmacro %}

{% macro postgres__parse_iso_timestamp(expression) -%}
    {{ target.schema }}.try_cast_timestamptz(
        case
            when {{ regex_matches(expression, "'(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$'") }} then {{ expression }}
            else {{ expression }} || '+00:00'
        end
    ) at time zone 'UTC'
{%- endmacro %}

{#- Text value of a top-level key (a SQL text expression, e.g. a quoted literal)
    of a JSON text column; NULL when the key is absent or the text is not valid JSON. -#}
{% macro json_text(json_expression, key) -%}
    {{ return(adapter.dispatch('json_text', 'behavioral_segmentation')(json_expression, key)) }}
{%- endmacro %}

{% macro default__json_text(json_expression, key) -%}
    case when json_valid({{ json_expression }}) then json_extract_string({{ json_expression }}, '$."' || {{ key }} || '"') end
{%- endmacro %}

{% macro postgres__json_text(json_expression, key) -%}
    ({{ target.schema }}.try_cast_jsonb({{ json_expression }}) ->> {{ key }})
{%- endmacro %}

{#- Lower-case hex SHA-256 of a text value. -#}
{% macro sha256_hex(expression) -%}
    {{ return(adapter.dispatch('sha256_hex', 'behavioral_segmentation')(expression)) }}
{%- endmacro %}

{% macro default__sha256_hex(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro postgres__sha256_hex(expression) -%}
    encode(sha256(convert_to({{ expression }}, 'UTF8')), 'hex')
{%- endmacro %}

{#- Functions some targets lack, created before every run (on-run-start). -#}
{% macro create_helper_functions() -%}
    {{ return(adapter.dispatch('create_helper_functions', 'behavioral_segmentation')()) }}
{%- endmacro %}

{% macro default__create_helper_functions() -%}
    select 1
{%- endmacro %}

{% macro postgres__create_helper_functions() -%}
    create schema if not exists {{ target.schema }};
    create or replace function {{ target.schema }}.try_cast_timestamptz(value text)
    returns timestamptz language plpgsql immutable as $$
    begin
        return value::timestamptz;
    exception when others then
        return null;
    end $$;
    create or replace function {{ target.schema }}.try_cast_jsonb(value text)
    returns jsonb language plpgsql immutable as $$
    begin
        return value::jsonb;
    exception when others then
        return null;
    end $$
{%- endmacro %}

{#- The n-th (1-based) '|'-style part of a string, where `position` may be a
    column (dbt.split_part needs a literal on PostgreSQL). -#}
{% macro split_part_at(expression, delimiter, position) -%}
    {{ return(adapter.dispatch('split_part_at', 'behavioral_segmentation')(expression, delimiter, position)) }}
{%- endmacro %}

{% macro default__split_part_at(expression, delimiter, position) -%}
    split_part({{ expression }}, {{ delimiter }}, {{ position }})
{%- endmacro %}

{#- Settings for the transaction of each model (a project-wide pre-hook).
    PostgreSQL: no JIT compilation. The planner's cost estimates for the
    event-wide queries pass jit_above_cost, and compiling them took 0.7-0.8 s
    per statement, more than it saved: an incremental build at 1M events took
    16.6-17.0 s without JIT against 19.6-22.2 s with it (docs/benchmark.md).
    Empty elsewhere (dbt skips an empty hook). -#}
{% macro model_session_settings() -%}
    {{ return(adapter.dispatch('model_session_settings', 'behavioral_segmentation')()) }}
{%- endmacro %}

{% macro default__model_session_settings() -%}
{%- endmacro %}

{% macro postgres__model_session_settings() -%}
    set local jit = off
{%- endmacro %}

{#- Statistics of the table a model just wrote (a project-wide post-hook, in
    the model's transaction). PostgreSQL: ANALYZE. Autovacuum analyzes a new
    table some time later; until then the planner guesses its size. One
    first build after a load at 1M events took 22 s in
    int_consent_events_resolved and 27 s in a mart test (under 1.7 s each in
    the build after this hook, docs/benchmark.md). Sampling 30,000 rows costs
    little per table. Nothing for views, nor on DuckDB, which keeps its statistics
    as it writes. -#}
{% macro model_table_statistics() -%}
    {{ return(adapter.dispatch('model_table_statistics', 'behavioral_segmentation')()) }}
{%- endmacro %}

{% macro default__model_table_statistics() -%}
{%- endmacro %}

{% macro postgres__model_table_statistics() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
