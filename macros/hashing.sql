{#- Deterministic keys and buckets from text, identical on every target. -#}

{#- Lower-case hex md5 of the values joined with '|' (NULLs as empty text). -#}
{% macro md5_key(expressions) -%}
    md5(
        {%- for expression in expressions %}
        coalesce(cast({{ expression }} as {{ dbt.type_string() }}), ''){{ " || '|' ||" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- A bucket 0..9999 from the first 7 hex digits (28 bits, always positive) of a
    lower-case hex string. -#}
{% macro hex_bucket_10000(hex_expression) -%}
    mod({{ adapter.dispatch('hex7_to_bigint', 'behavioral_segmentation')(hex_expression) }}, 10000)
{%- endmacro %}

{% macro default__hex7_to_bigint(hex_expression) -%}
    cast('0x' || substr({{ hex_expression }}, 1, 7) as bigint)
{%- endmacro %}

{% macro postgres__hex7_to_bigint(hex_expression) -%}
    cast(cast('x' || substr({{ hex_expression }}, 1, 7) as bit(28)) as bigint)
{%- endmacro %}

{#- A hash of the set of rows of a group (an aggregate): equal for equal
    multisets of `expressions` values, whatever the row order. DuckDB sums
    its own 64-bit hash of each row (an ordered md5 aggregate was 1.7 s over
    1M consent intervals there, this 0.1 s); the hash may change with the
    DuckDB version, which makes every stored state look changed once (the
    next incremental build then re-resolves everything, as a full refresh
    would). Elsewhere: md5 of the sorted row md5s. -#}
{% macro set_hash(expressions) -%}
    {{ return(adapter.dispatch('set_hash', 'behavioral_segmentation')(expressions)) }}
{%- endmacro %}

{% macro default__set_hash(expressions) -%}
    md5(string_agg({{ md5_key(expressions) }}, ',' order by {{ md5_key(expressions) }}))
{%- endmacro %}

{% macro duckdb__set_hash(expressions) -%}
    cast(sum(hash({{ expressions | join(', ') }})) as {{ dbt.type_string() }})
{%- endmacro %}
