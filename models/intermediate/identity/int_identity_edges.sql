-- Identifier pairs seen together, once per unordered pair (canonical order:
-- left_type < right_type), plus one self pair per identifier that records when
-- it was seen at all (so identifiers seen alone are resolved too).
with

event_tuples as (

    select * from {{ ref('int_events_identifier_tuples') }}

),

identifies as (

    select * from {{ ref('stg_tracking__identifies') }}

),

consent_events as (

    select * from {{ ref('stg_cmp__consent_events') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

observations as (

    -- Events arrive already grouped per identifier tuple (and country);
    -- identify calls and consent events are one observation per row.
    select
        anonymous_id,
        user_id,
        email,
        first_seen_at,
        last_seen_at,
        times_seen
    from event_tuples
    union all
    select
        anonymous_id,
        user_id,
        email,
        occurred_at as first_seen_at,
        occurred_at as last_seen_at,
        1 as times_seen
    from identifies
    where occurred_at is not null
    union all
    select
        anonymous_id,
        user_id,
        email,
        occurred_at as first_seen_at,
        occurred_at as last_seen_at,
        1 as times_seen
    from consent_events
    where occurred_at is not null

),

combinations as (

    -- Collapse rows to distinct identifier combinations first: far fewer rows
    -- to unpivot into pairs.
    select
        anonymous_id,
        user_id,
        email,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        sum(times_seen) as times_seen
    from observations
    where anonymous_id is not null or user_id is not null or email is not null
    group by anonymous_id, user_id, email

),

contact_observations as (

    select
        contact_id,
        email,
        coalesce(created_at, updated_at) as first_seen_at,
        coalesce(updated_at, created_at) as last_seen_at
    from contacts
    where coalesce(created_at, updated_at) is not null

),

pair_observations as (

    {{ identity_pairs_union([
        ('anonymous_id', 'anonymous_id'),
        ('email', 'email'),
        ('user_id', 'user_id'),
        ('anonymous_id', 'email'),
        ('anonymous_id', 'user_id'),
        ('email', 'user_id'),
    ], 'combinations') }}

    union all

    select
        'contact_id' as left_type,
        contact_id as left_value,
        'contact_id' as right_type,
        contact_id as right_value,
        first_seen_at,
        last_seen_at,
        1 as times_seen
    from contact_observations

    union all

    select
        'contact_id' as left_type,
        contact_id as left_value,
        'email' as right_type,
        email as right_value,
        first_seen_at,
        last_seen_at,
        1 as times_seen
    from contact_observations
    where email is not null

),

final as (

    select  -- noqa: ST06
        left_type,
        left_value,
        right_type,
        right_value,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        cast(sum(times_seen) as bigint) as times_seen
    from pair_observations
    group by left_type, left_value, right_type, right_value

)

select * from final
