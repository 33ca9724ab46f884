-- What destinations must delete: every identifier of every deleted person (as
-- resolved by the identity map) and every identifier named on a deletion
-- request (even one the warehouse never saw), as lower-case hex SHA-256 of the
-- normalized value. One row per (identifier_type, identifier_hash), with the
-- earliest request that covers it.
with

requests as (

    select * from {{ ref('stg_privacy__deletion_requests') }}

),

deleted_persons as (

    select * from {{ ref('int_deleted_persons') }}

),

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

person_identifiers as (

    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        deleted_persons.request_id,
        deleted_persons.requested_at
    from identifiers
    inner join deleted_persons on identifiers.person_id = deleted_persons.person_id

),

request_identifiers as (

    select
        'user_id' as identifier_type,
        user_id as identifier_value,
        request_id,
        requested_at
    from requests
    where user_id is not null
    union all
    select
        'email' as identifier_type,
        email as identifier_value,
        request_id,
        requested_at
    from requests
    where email is not null
    union all
    select
        'anonymous_id' as identifier_type,
        anonymous_id as identifier_value,
        request_id,
        requested_at
    from requests
    where anonymous_id is not null

),

all_identifiers as (

    select * from person_identifiers
    union all
    select * from request_identifiers

),

ranked as (

    select
        identifier_type,
        {{ sha256_hex('identifier_value') }} as identifier_hash,
        request_id,
        requested_at,
        row_number() over (
            partition by identifier_type, identifier_value
            order by requested_at asc nulls last, request_id asc
        ) as request_rank
    from all_identifiers

),

final as (

    select
        identifier_type,
        identifier_hash,
        request_id,
        requested_at
    from ranked
    where request_rank = 1

)

select * from final
