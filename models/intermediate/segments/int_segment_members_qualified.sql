-- Every (segment, member) whose rule is met at as_of, before consent: one CTE
-- per declared segment (seeds/segment_definitions.csv), each the segment's
-- rule macro (macros/segments/), unioned.
-- The SQL is generated from the segment seed at compile time; before the seed
-- exists (e.g. when linting) no rule reads the import CTEs.
-- noqa: disable=ST03,LT02
{%- set segment_ids = declared_segments() %}
with

events as (

    select * from {{ ref('int_events_weighted') }}

),

persons as (

    select * from {{ ref('dim_persons') }}

),

accounts as (

    select * from {{ ref('dim_accounts') }}

),

definitions as (

    select * from {{ ref('segment_definitions') }}

),

{% for segment_id in segment_ids %}
rule__{{ segment_id }} as (

    {{ segment_rule(segment_id) }}

),

{% endfor %}
qualified as (

    {% for segment_id in segment_ids %}
    select
        '{{ segment_id }}' as segment_id,
        cast(member_id as {{ dbt.type_string() }}) as member_id,
        cast(member_score as double precision) as member_score,
        cast(reason as {{ dbt.type_string() }}) as reason
    from rule__{{ segment_id }}
    {{ 'union all' if not loop.last }}
    {% else %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        cast(null as {{ dbt.type_string() }}) as member_id,
        cast(null as double precision) as member_score,
        cast(null as {{ dbt.type_string() }}) as reason
    where false
    {% endfor %}

),

final as (

    select
        qualified.segment_id,
        definitions.member_type,
        qualified.member_id,
        qualified.member_score,
        qualified.reason
    from qualified
    inner join definitions on qualified.segment_id = definitions.segment_id

)

select * from final
