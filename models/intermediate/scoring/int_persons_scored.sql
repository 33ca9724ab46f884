-- Decayed engagement scores, window counts and recency per person
-- (persons with at least one consented event at or before as_of).
with

events as (

    select * from {{ ref('int_events_weighted') }}

),

scored_events as (

    select
        person_id,
        {{ score_row_columns() }}
    from events

),

aggregated as (

    select
        person_id,
        {{ score_aggregates() }}
    from scored_events
    group by person_id

),

final as (

    select
        *,
        {{ age_days('last_event_at') }} as days_since_last_event,
        {{ age_days('last_product_event_at') }} as days_since_last_product_event
    from aggregated

)

select * from final
