-- Events at or before as_of that carry a context_country, counted per
-- identifier tuple (user_id, email, anonymous_id) and country: the input of
-- the event-context country in int_persons_regions. Counted before identity
-- resolution (9.7M events -> 0.6M tuples at 10M), in a model of its own so
-- that dbt builds it while identity resolution runs.
with

events as (

    select * from {{ ref('stg_tracking__events') }}

),

final as (

    select
        user_id,
        email,
        anonymous_id,
        context_country as country,
        count(*) as event_count
    from events
    where
        context_country is not null
        and context_country != ''
        and occurred_at <= {{ as_of_timestamp() }}
    group by user_id, email, anonymous_id, context_country

)

select * from final
