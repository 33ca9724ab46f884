-- Decayed engagement scores, window counts and recency per account, over the
-- consented events of the account's persons: the persons' aggregates summed
-- (an event's account is its person's account, so this equals aggregating the
-- events again, at a fraction of the cost: one row per person instead of one
-- per event).
with

persons as (

    select * from {{ ref('int_persons_scored') }}

),

persons_accounts as (

    select * from {{ ref('int_persons_accounts') }}

),

aggregated as (

    select
        persons_accounts.account_id,
        {{ score_rollup('persons') }},
        -- Every scored event is at or before as_of, so a person has an event
        -- in the window exactly when its last event is in it.
        cast(
            count(case when {{ within_days('persons.last_event_at', var('engaged_person_days')) }} then 1 end)
            as bigint
        ) as engaged_persons
    from persons
    inner join persons_accounts on persons.person_id = persons_accounts.person_id
    group by persons_accounts.account_id

),

final as (

    select
        *,
        {{ age_days('last_event_at') }} as days_since_last_event,
        {{ age_days('last_product_event_at') }} as days_since_last_product_event
    from aggregated

)

select * from final
