{{ config(materialized="view") }}

-- Consented events at or before as_of with their taxonomy weight and half-life:
-- the one input of every decayed score. Events after as_of are not scored.
with

events as (

    select * from {{ ref('fct_events') }}

),

taxonomy as (

    select * from {{ ref('event_taxonomy') }}

),

final as (

    select
        events.event_id,
        events.person_id,
        events.account_id,
        events.event_name,
        events.score_category,
        events.occurred_at,
        events.properties,
        taxonomy.weight,
        taxonomy.half_life_days
    from events
    inner join taxonomy on events.event_name = taxonomy.event_name
    where events.occurred_at <= {{ as_of_timestamp() }}

)

select * from final
