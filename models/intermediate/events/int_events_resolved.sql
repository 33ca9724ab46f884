-- Every accepted event (stg_tracking__events), resolved to its person and
-- account, with the consent that held when it occurred and the reason it is
-- kept out of fct_events as of the build (NULL when it is kept).
-- Exclusion reasons (macro event_exclusion_rules), first matching wins:
-- unresolved, deleted_person, outside_retention, after_as_of,
-- no_analytics_consent, no_purpose_consent.
-- A view over int_events_resolved_stored, which stores everything that does
-- not move with as_of; the retention window and the after_as_of rule are
-- applied here.
{{ config(materialized='view') }}
with

stored as (

    select * from {{ ref('int_events_resolved_stored') }}

),

final as (

    select
        event_id,
        {{ stored_enum_text('event_name') }} as event_name,
        {{ stored_enum_text('event_category') }} as event_category,
        {{ stored_enum_text('score_category') }} as score_category,
        {{ stored_enum_text('consent_purpose') }} as consent_purpose,
        source,
        occurred_at,
        received_at,
        has_analytics_consent,
        has_purpose_consent,
        {{ event_exclusion_reason(stored_enum_text('exclusion_reason')) }} as exclusion_reason,
        person_id,
        account_id,
        properties
    from stored
    -- Older events are quarantined in staging (outside_retention): only the
    -- events of stg_tracking__events are resolved.
    where occurred_at >= {{ retention_start() }}

)

select * from final
