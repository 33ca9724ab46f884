-- INTERIM (replaced by identity resolution, issue 3): one row per identifier
-- with the person it belongs to. Here a person is anchored on a user_id seen
-- with the identifier (the most recent), else on the identifier itself.
with

events as (

    select anonymous_id, user_id, email, occurred_at from {{ ref('stg_tracking__events') }}
    union all
    select anonymous_id, user_id, email, occurred_at from {{ ref('stg_tracking__identifies') }}

),

identifiers as (

    select 'anonymous_id' as identifier_type, anonymous_id as identifier_value, user_id, occurred_at
    from events where anonymous_id is not null
    union all
    select 'email' as identifier_type, email as identifier_value, user_id, occurred_at
    from events where email is not null
    union all
    select 'user_id' as identifier_type, user_id as identifier_value, user_id, occurred_at
    from events where user_id is not null

),

ranked as (

    select
        identifier_type,
        identifier_value,
        user_id,
        row_number() over (
            partition by identifier_type, identifier_value
            order by (user_id is null) asc, occurred_at desc, user_id asc
        ) as user_rank,
        min(occurred_at) over (partition by identifier_type, identifier_value) as first_seen_at,
        max(occurred_at) over (partition by identifier_type, identifier_value) as last_seen_at
    from identifiers

),

final as (

    select
        identifier_type,
        identifier_value,
        md5(
            case when user_id is not null then 'user_id:' || user_id else identifier_type || ':' || identifier_value end
        ) as person_id,
        false as is_shared_device,
        first_seen_at,
        last_seen_at
    from ranked
    where user_rank = 1

)

select * from final
