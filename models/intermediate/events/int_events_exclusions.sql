-- Accepted events kept out of fct_events, counted by reason (every reason is
-- listed, with 0 when nothing was excluded for it): accepted events =
-- fct_events + the sum of these counts.
with

events as (

    select * from {{ ref('int_events_resolved') }}

),

reasons as (

    {%- for reason in ['unresolved', 'deleted_person', 'outside_retention', 'after_as_of',
        'no_analytics_consent', 'no_purpose_consent'] %}
    select '{{ reason }}' as exclusion_reason, {{ loop.index }} as reason_order
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}

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
