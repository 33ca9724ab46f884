{#- One select per (left, right) identifier column pair of `relation`, joined
    with union all: the pairs of identifiers seen together on a row, with the
    row's first/last seen and count. -#}
{% macro identity_pairs_union(pairs, relation) -%}
    {%- for left, right in pairs %}
    select
        '{{ left }}' as left_type,
        {{ left }} as left_value,
        '{{ right }}' as right_type,
        {{ right }} as right_value,
        first_seen_at,
        last_seen_at,
        times_seen
    from {{ relation }}
    where {{ left }} is not null and {{ right }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
