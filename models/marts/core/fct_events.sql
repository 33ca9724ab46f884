-- Accepted events of living persons, inside the retention window, for which
-- analytics consent (and the consent of the event's own purpose) held when they
-- occurred; resolved to person and account. No email, IP or user agent here.
-- A view: it only filters int_events_resolved, so no second full copy of every
-- event is written at each build.
{{ config(materialized='view') }}
with

events as (

    select * from {{ ref('int_events_resolved') }}

),

final as (

    select
        event_id,
        event_name,
        event_category,
        score_category,
        consent_purpose,
        person_id,
        account_id,
        occurred_at,
        received_at,
        source,
        properties
    from events
    where exclusion_reason is null

)

select * from final
