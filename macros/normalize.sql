{#- Normalization rules shared by every staging model. -#}

{#- A trimmed identifier, or NULL for placeholder values (var placeholder_identifiers,
    compared case-insensitively, and any value made only of zeros and dashes). -#}
{% macro clean_identifier(expression) -%}
    case
        when {{ in_text_values('lower(trim(' ~ expression ~ '))', var('placeholder_identifiers')) }} then null
        when {{ regex_matches('trim(' ~ expression ~ ')', "'^[0-]+$'") }} then null
        else trim({{ expression }})
    end
{%- endmacro %}

{#- A normalized email (trimmed, lower-cased), or NULL for placeholders and
    values that are not an address. -#}
{% macro normalize_email(expression) -%}
    case
        when {{ regex_matches('lower(trim(' ~ expression ~ '))', "'^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$'") }}
            then lower(trim({{ expression }}))
    end
{%- endmacro %}

{#- An event name as matched against the taxonomy: trimmed and lower-cased. -#}
{% macro normalize_event_name(expression) -%}
    lower(trim({{ expression }}))
{%- endmacro %}

{#- The `as_of` time of the build as a SQL timestamp literal (var as_of, default: now, UTC). -#}
{% macro as_of_timestamp() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as timestamp)
    {%- else -%}
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
    {%- endif -%}
{%- endmacro %}

{#- The first failing rule's reason, or NULL when every rule passes.
    `rules` is an ordered list of (reason, condition that means the row fails). -#}
{% macro first_failing_rule(rules) -%}
    case
        {%- for reason, condition in rules %}
        when {{ condition }} then '{{ reason }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- The first failing rule as of the build, from a stored reason that was
    computed without the rules that move with as_of (so stored rows need no
    rebuild when as_of moves). `rules`: the whole ordered list of (reason,
    condition); `as_of_reasons`: the reasons left out of the stored one. A
    stored rule matches when it is the stored reason (the first stored rule
    that failed), an as_of rule when its condition holds; after the last as_of
    rule the stored reason stands. Same result as first_failing_rule(rules). -#}
{% macro first_failing_rule_as_of(stored_reason, rules, as_of_reasons) -%}
    {%- set last = namespace(index=-1) -%}
    {%- for reason, condition in rules if reason in as_of_reasons -%}
        {%- set last.index = rules.index((reason, condition)) -%}
    {%- endfor -%}
    case
        {%- for reason, condition in rules[:last.index + 1] %}
        {%- if reason in as_of_reasons %}
        when {{ condition }} then '{{ reason }}'
        {%- else %}
        when {{ stored_reason }} = '{{ reason }}' then '{{ reason }}'
        {%- endif %}
        {%- endfor %}
        else {{ stored_reason }}
    end
{%- endmacro %}

{#- True when ref() or source() gave a unit test's fixture rows (a CTE), not
    a table. -#}
{% macro is_unit_test_fixture(relation) -%}
    {{ return(relation.schema is none or relation.identifier is none) }}
{%- endmacro %}

{#- Rows of a seed (or of a reference model built from one) at compile time
    (empty while parsing, before it exists, or when it is a unit test's
    fixture), for rules that are generated from reference data. -#}
{% macro seed_rows(seed_name, columns) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set relation = ref(seed_name) -%}
    {%- if is_unit_test_fixture(relation) -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set found = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
    {%- if found is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set result = run_query('select ' ~ columns | join(', ') ~ ' from ' ~ relation ~ ' order by 1') -%}
    {{ return(result.rows) }}
{%- endmacro %}

{#- Whether a full refresh of the events classifier ranks the copies of a
    message apart from the pass over every row (by raw row id) instead of one
    window over every row. DuckDB: yes (10M rows: a window over every row and
    its columns 44 s, apart 26-28 s). PostgreSQL: no (1M rows: one window
    33 s; apart by row id 78 s, its planner misjudges how many rows repeat). -#}
{% macro rank_copies_apart() -%}
    {{ return(adapter.dispatch('rank_copies_apart', 'behavioral_segmentation')()) }}
{%- endmacro %}

{% macro default__rank_copies_apart() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro duckdb__rank_copies_apart() -%}
    {{ return(true) }}
{%- endmacro %}

{#- The two CTEs every quarantining staging model ends with: `checked` applies
    the ordered rules to the rows of `from_cte`; `classified` adds
    `rejection_reason`, where rows that pass every rule are deduplicated on
    message_id (the earliest received copy is kept, later copies are rejected as
    duplicate_message_id). Expects message_id, received_at and the raw text
    columns raw_received_at and raw_occurred_at in `from_cte`.
    In an incremental build a copy of a message accepted in an earlier received
    day is a duplicate too: the CTE `accepted_earlier` of received_day_ctes
    (macros/incremental.sql), which every incremental classifier starts with,
    holds those ids. `prefix` names the CTEs (<prefix>checked,
    <prefix>classified); `rank_copies=false` leaves out the dedupe window, for
    rows whose copies are ranked elsewhere: `known_duplicates` then names a
    CTE of the raw_row_id of the rows that ranking found to be duplicates. -#}
{% macro quarantine_ctes(from_cte, rules, prefix='', rank_copies=true, known_duplicates=none) -%}
{%- set accepted_earlier = 'accepted_earlier' if is_incremental() else none -%}
{{ prefix }}checked as (

    select
        *,
        {{ first_failing_rule(rules) }} as failed_rule
    from {{ from_cte }}

),

{{ prefix }}classified as (

    select
        *,
        {%- if rank_copies or accepted_earlier or known_duplicates %}
        coalesce(
            failed_rule,
            case
                {%- if known_duplicates %}
                -- DuckDB only (rank_copies_apart): a mark join there, ~3 s
                -- faster at 10M rows than a left join.
                when raw_row_id in (select raw_row_id from {{ known_duplicates }})
                    then 'duplicate_message_id'
                {%- endif %}
                {%- if rank_copies %}
                when row_number() over (
                    partition by message_id, failed_rule
                    order by received_at, raw_received_at, raw_occurred_at
                ) > 1 then 'duplicate_message_id'
                {%- endif %}
                {%- if accepted_earlier %}
                when failed_rule is null and exists (
                    select 1 from {{ accepted_earlier }} as earlier
                    where earlier.message_id = {{ prefix }}checked.message_id
                ) then 'duplicate_message_id'
                {%- endif %}
            end
        ) as rejection_reason
        {%- else %}
        failed_rule as rejection_reason
        {%- endif %}
    from {{ prefix }}checked

)
{%- endmacro %}

{#- The timestamp rules shared by every event-like raw table, in quarantine order. -#}
{% macro timestamp_rules() -%}
    {{ return([
        ('unparseable_timestamp', 'occurred_at is null or received_at is null'),
        ('future_timestamp', 'occurred_at > ' ~ dbt.dateadd('minute', var('future_tolerance_minutes'), 'received_at')),
    ]) }}
{%- endmacro %}

{#- A numeric text value cast to `type`; NULL when it is not a plain number. -#}
{% macro parse_number(expression, type='double precision') -%}
    case
        when {{ regex_matches('trim(cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ '))', "'^-?[0-9]+([.][0-9]+)?$'") }}
            then cast(cast(trim(cast({{ expression }} as {{ dbt.type_string() }})) as numeric) as {{ type }})
    end
{%- endmacro %}

{#- The domain part of a normalized email. -#}
{% macro email_domain(expression) -%}
    {{ split_part_at(expression, "'@'", 2) }}
{%- endmacro %}

{#- A web domain normalized for matching: lower-case, no scheme, no www., no path. -#}
{% macro normalize_domain(expression) -%}
    nullif(
        regexp_replace(
            regexp_replace(lower(trim({{ expression }})), '^(https?://)?(www[.])?', ''),
            '/.*$', ''
        ),
        ''
    )
{%- endmacro %}

{#- Rows 1..n in one column, for splitting '|'-separated lists with split_part. -#}
{% macro integer_rows(n, column_name) -%}
    {%- for position in range(1, n + 1) %}
    select {{ position }} as {{ column_name }}
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- True when a required property of the row's event is absent or empty in the
    JSON `properties_column`. `required_properties` is a list of
    (event_name, '|'-separated keys) rows from the taxonomy seed. -#}
{% macro missing_required_property(event_column, properties_column, required_properties) -%}
    {%- set events_with_keys = required_properties | selectattr(1) | list -%}
    {%- if not events_with_keys -%}
        false
    {%- else -%}
        case {{ event_column }}
            {%- for event_name, keys in events_with_keys %}
            when '{{ event_name }}' then (
                {%- for key in keys.split('|') %}
                coalesce(trim({{ json_text(properties_column, "'" ~ key ~ "'") }}), '') = ''{{ ' or' if not loop.last }}
                {%- endfor %}
            )
            {%- endfor %}
            else false
        end
    {%- endif -%}
{%- endmacro %}

{#- True when the user agent contains one of `patterns` (plain substrings),
    letters in either case. One regular expression of escaped alternatives: a
    single pass over the text instead of one strpos per pattern (2x faster on
    DuckDB); matched ignoring case rather than on lower(), which copied every
    user agent (0.25 s at 10M rows). -#}
{% macro matches_any_pattern(expression, patterns) -%}
    {%- if not patterns -%}
        (false)
    {%- else -%}
        {%- set escaped = [] -%}
        {%- for pattern in patterns -%}
            {%- set ns = namespace(text=pattern) -%}
            {%- for char in ['\\', '.', '^', '$', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}'] -%}
                {%- set ns.text = ns.text.replace(char, '\\' ~ char) -%}
            {%- endfor -%}
            {%- do escaped.append(ns.text.replace("'", "''")) -%}
        {%- endfor -%}
        {{ regex_matches(expression, "'" ~ escaped | join('|') ~ "'", ignore_case=true) }}
    {%- endif -%}
{%- endmacro %}
