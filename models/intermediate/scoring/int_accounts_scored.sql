-- Decayed engagement scores, window counts and recency per account, over the
-- consented events of the account's persons (same arithmetic as persons).
with

events as (

    select * from {{ ref('int_events_weighted') }}
    where account_id is not null

),

aggregated as (

    select
        account_id,
        {{ score_aggregates() }},
        cast(
            count(distinct case when {{ within_days('occurred_at', var('engaged_person_days')) }} then person_id end)
            as bigint
        ) as engaged_persons
    from events
    group by account_id

),

final as (

    select
        *,
        {{ age_days('last_event_at') }} as days_since_last_event,
        {{ age_days('last_product_event_at') }} as days_since_last_product_event
    from aggregated

)

select * from final
