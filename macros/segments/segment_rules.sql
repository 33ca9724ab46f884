{#- Segment rules. Each segment of seeds/segment_definitions.csv has one macro
    `segment_rule__<segment_id>()` in this folder returning a SELECT with
    member_id, member_score (double) and reason (text) for every member whose
    rule is met at as_of, before consent (membership applies the segment's
    required consent purpose). A rule reads only these CTEs of
    int_segment_members_qualified:
      events   - consented events at or before as_of (int_events_weighted)
      persons  - dim_persons (deleted persons excluded)
      accounts - dim_accounts
    Windows use within_days(). -#}

{#- The rule of one segment; a compile error names the missing macro. -#}
{% macro segment_rule(segment_id) -%}
    {%- set rule = context.get('segment_rule__' ~ segment_id) -%}
    {%- if rule is none -%}
        {{ exceptions.raise_compiler_error(
            "segment '" ~ segment_id ~ "' is declared in seeds/segment_definitions.csv but has no rule: "
            ~ "add a macro segment_rule__" ~ segment_id ~ "() in macros/segments/") }}
    {%- endif -%}
    {{ return(rule()) }}
{%- endmacro %}

{#- (segment_id, member_type) of the declared segments, read from the seed at
    compile time. Unit tests set var segment_ids_under_test instead (a unit
    test's seed is a fixture that cannot be read at compile time). -#}
{% macro declared_segments() -%}
    {%- set under_test = var('segment_ids_under_test', none) -%}
    {%- if under_test is not none -%}
        {{ return(under_test) }}
    {%- endif -%}
    {{ return(seed_rows('segment_definitions', ['segment_id']) | map(attribute=0) | list) }}
{%- endmacro %}
