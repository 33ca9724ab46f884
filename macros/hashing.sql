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
