-- No event in fct_events without analytics consent at the moment it occurred.
-- Recomputed from the consent events themselves (not from int_consent_intervals):
-- the latest analytics consent event of the event's person at or before
-- occurred_at decides (same timestamp: the most restrictive status, then the
-- smallest message_id); with none, the person's region default (opt-in: denied).
with

events as (

    select
        event_id,
        person_id,
        occurred_at
    from {{ ref('fct_events') }}

),

consent_events as (

    select * from {{ ref('stg_cmp__consent_events') }}
    where
        purpose = 'analytics'
        and occurred_at <= {{ as_of_timestamp() }}

),

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

regions as (

    select * from {{ ref('int_persons_regions') }}

),

consent_identifiers as (

    select
        message_id,
        1 as strength,
        'user_id' as identifier_type,
        user_id as identifier_value
    from consent_events
    where user_id is not null
    union all
    select
        message_id,
        2 as strength,
        'email' as identifier_type,
        email as identifier_value
    from consent_events
    where email is not null
    union all
    select
        message_id,
        3 as strength,
        'anonymous_id' as identifier_type,
        anonymous_id as identifier_value
    from consent_events
    where anonymous_id is not null

),

consent_owners as (

    select
        consent_identifiers.message_id,
        identifiers.person_id,
        row_number() over (
            partition by consent_identifiers.message_id order by consent_identifiers.strength
        ) as owner_rank
    from consent_identifiers
    inner join identifiers
        on
            consent_identifiers.identifier_type = identifiers.identifier_type
            and consent_identifiers.identifier_value = identifiers.identifier_value

),

person_consent as (

    select
        consent_owners.person_id,
        consent_events.message_id,
        consent_events.status,
        consent_events.occurred_at
    from consent_events
    inner join consent_owners
        on
            consent_events.message_id = consent_owners.message_id
            and consent_owners.owner_rank = 1

),

latest_before_event as (

    select
        events.event_id,
        person_consent.status,
        row_number() over (
            partition by events.event_id
            order by
                person_consent.occurred_at desc,
                case person_consent.status when 'withdrawn' then 1 when 'denied' then 2 else 3 end,
                person_consent.message_id asc
        ) as recency_rank
    from events
    inner join person_consent
        on
            events.person_id = person_consent.person_id
            and events.occurred_at >= person_consent.occurred_at

),

final as (

    select
        events.event_id,
        events.person_id,
        events.occurred_at,
        latest_before_event.status as latest_status,
        regions.is_opt_in_region
    from events
    left join latest_before_event
        on
            events.event_id = latest_before_event.event_id
            and latest_before_event.recency_rank = 1
    left join regions on events.person_id = regions.person_id
    where
        coalesce(latest_before_event.status != 'granted', false)
        or (latest_before_event.status is null and coalesce(regions.is_opt_in_region, true))

)

select * from final
