-- Accepted events kept out of fct_events, counted by reason (every reason is
-- listed, with 0 when nothing was excluded for it): accepted events =
-- fct_events + the sum of these counts.
with

events as (

    select * from {{ ref('int_events_resolved') }}

),

reasons as (

    {%- set reasons = event_exclusion_rules() | map('first') | list %}
    {{ literal_rows('exclusion_reason', reasons, position_column='reason_order') }}

),

counts as (

    select
        exclusion_reason,
        count(*) as event_count
    from events
    where exclusion_reason is not null
    group by exclusion_reason

),

final as (

    select
        reasons.exclusion_reason,
        reasons.reason_order,
        coalesce(counts.event_count, 0) as event_count
    from reasons
    left join counts on reasons.exclusion_reason = counts.exclusion_reason

)

select * from final
