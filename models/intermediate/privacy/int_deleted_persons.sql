-- Persons who asked to be deleted, matched through ANY identifier on the
-- request (a request whose identifiers point at several persons deletes them
-- all). Deletion is not time-bound: events that arrive after the request are
-- still the deleted person's and stay out. Deletion requests are an
-- append-only log in raw; a request must never be removed from it, or the
-- person comes back on the next build.
with

requests as (

    select * from {{ ref('stg_privacy__deletion_requests') }}

),

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

request_identifiers as (

    select
        request_id,
        requested_at,
        'user_id' as identifier_type,
        user_id as identifier_value
    from requests
    where user_id is not null
    union all
    select
        request_id,
        requested_at,
        'email' as identifier_type,
        email as identifier_value
    from requests
    where email is not null
    union all
    select
        request_id,
        requested_at,
        'anonymous_id' as identifier_type,
        anonymous_id as identifier_value
    from requests
    where anonymous_id is not null

),

matched as (

    select distinct
        identifiers.person_id,
        request_identifiers.request_id,
        request_identifiers.requested_at
    from request_identifiers
    inner join identifiers
        on
            request_identifiers.identifier_type = identifiers.identifier_type
            and request_identifiers.identifier_value = identifiers.identifier_value

),

ranked as (

    select
        *,
        row_number() over (
            partition by person_id
            order by requested_at asc nulls last, request_id asc
        ) as request_rank,
        count(*) over (partition by person_id) as request_count
    from matched

),

final as (

    select
        person_id,
        request_id,
        requested_at,
        request_count
    from ranked
    where request_rank = 1

)

select * from final
