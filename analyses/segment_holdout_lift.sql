-- Lift of a segment's activation against its holdout on a conversion event:
-- for person members, the share that converted (a consented `conversion_event`
-- after entering the segment, within `window_days`), activated vs holdout, and
-- the relative lift. Compile with e.g.
--   dbt compile --select segment_holdout_lift \
--     --vars '{lift_segment_id: upsell_candidates, lift_conversion_event: Plan_Upgraded}'
{%- set segment_id = var('lift_segment_id', 'upsell_candidates') %}
{%- set conversion_event = var('lift_conversion_event', 'Plan_Upgraded') %}
{%- set window_days = var('lift_window_days', 30) %}
with

membership as (

    select * from {{ ref('fct_segment_membership') }}
    where segment_id = '{{ segment_id }}' and member_type = 'person'

),

events as (

    select * from {{ ref('fct_events') }}
    where event_name = '{{ conversion_event }}'

),

converted as (

    select distinct membership.membership_id
    from membership
    inner join events
        on
            membership.member_id = events.person_id
            and membership.entered_at <= events.occurred_at
            and membership.entered_at + interval '{{ window_days }} days' > events.occurred_at

),

groups as (

    select
        membership.is_holdout,
        count(*) as members,
        count(converted.membership_id) as conversions
    from membership
    left join converted on membership.membership_id = converted.membership_id
    group by membership.is_holdout

),

final as (

    select
        '{{ segment_id }}' as segment_id,
        '{{ conversion_event }}' as conversion_event,
        activated.members as activated_members,
        activated.conversions as activated_conversions,
        holdout.members as holdout_members,
        holdout.conversions as holdout_conversions,
        1.0 * activated.conversions / nullif(activated.members, 0) as activated_rate,
        1.0 * holdout.conversions / nullif(holdout.members, 0) as holdout_rate,
        (1.0 * activated.conversions / nullif(activated.members, 0))
        / nullif(1.0 * holdout.conversions / nullif(holdout.members, 0), 0) - 1 as relative_lift
    from groups as activated
    cross join groups as holdout
    where not activated.is_holdout and holdout.is_holdout

)

select * from final
