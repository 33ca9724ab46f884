-- Accepted consent events of living persons, each resolved to its person
-- through its user_id, else email, else anonymous_id. Events after the
-- build's as_of are not known yet; events no identifier resolves are dropped
-- (they belong to no known person, so they cannot change anyone's state).
with

consent_events as (

    select * from {{ ref('stg_cmp__consent_events') }}

),

resolved as (

    select
        consent_events.message_id,
        {{ resolved_person_id() }} as person_id,
        consent_events.purpose,
        consent_events.status,
        consent_events.source,
        consent_events.country,
        consent_events.occurred_at,
        consent_events.received_at
    from consent_events
    {{ join_person_identifiers('consent_events') }}
    where consent_events.occurred_at <= {{ as_of_timestamp() }}

),

final as (

    select
        message_id,
        person_id,
        purpose,
        status,
        source,
        country,
        occurred_at,
        received_at,
        source = 'gpc' as is_gpc_signal
    from resolved
    where
        person_id is not null
        and {{ is_not_deleted_person('resolved.person_id') }}

)

select * from final
