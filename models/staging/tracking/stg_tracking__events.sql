-- Accepted events: canonical names, UTC timestamps, placeholder ids removed,
-- one row per message_id, inside the retention window as of the build.
-- A view: it only filters the classified table, so no second full copy is written.
{{ config(materialized='view') }}

with

classified as (

    select * from {{ ref('base_tracking__events_classified') }}

),

final as (

    select
        message_id,
        {{ stored_enum_text('event_name') }} as event_name,
        {{ reconstructed_raw_text('raw_event', stored_enum_text('event_name')) }} as event_name_raw,
        {{ stored_enum_text('event_category') }} as event_category,
        {{ stored_enum_text('score_category') }} as score_category,
        {{ stored_enum_text('consent_purpose') }} as consent_purpose,
        anonymous_id,
        user_id,
        email,
        source,
        occurred_at,
        received_at,
        context_ip,
        context_user_agent,
        context_page_url,
        context_referrer,
        context_country,
        properties
    from classified
    where
        rejection_reason is null
        and occurred_at >= {{ retention_start() }}

)

select * from final
