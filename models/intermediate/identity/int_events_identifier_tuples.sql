-- Accepted events counted per identifier tuple (anonymous_id, user_id, email)
-- and context_country, with when the tuple was first and last seen: 9.7M events
-- -> ~0.6M tuples at 10M. One scan and grouping of the events serves the
-- identity edges (which regroup the tuples without the country) and the
-- event-context country of int_persons_regions (events up to as_of).
with

events as (

    select * from {{ ref('stg_tracking__events') }}

),

final as (

    select
        anonymous_id,
        user_id,
        email,
        context_country as country,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        cast(count(*) as bigint) as times_seen,
        cast(sum(case when occurred_at <= {{ as_of_timestamp() }} then 1 else 0 end) as bigint)
            as events_to_as_of
    from events
    where
        occurred_at is not null
        and (anonymous_id is not null or user_id is not null or email is not null)
    group by anonymous_id, user_id, email, context_country

)

select * from final
