-- Quarantined events exactly as the collector sent them, each with the first
-- rule it failed as of the build (the stored reason, or outside_retention).
-- A view: it only filters the classified table, so no second full copy is written.
{{ config(materialized='view') }}

with

classified as (

    select * from {{ ref('base_tracking__events_classified') }}

),

reasoned as (

    select
        *,
        {{ event_rejection_reason('rejection_reason', 'occurred_at') }} as reason_as_of
    from classified

),

final as (

    select
        {{ reconstructed_raw_text('raw_message_id', 'message_id') }} as message_id,
        {{ reconstructed_raw_text('raw_event', stored_enum_text('event_name')) }} as event,
        {{ reconstructed_raw_text('raw_anonymous_id', 'anonymous_id') }} as anonymous_id,
        {{ reconstructed_raw_text('raw_user_id', 'user_id') }} as user_id,
        {{ reconstructed_raw_text('raw_email', 'email') }} as email,
        {{ reconstructed_raw_text('raw_source', 'source') }} as source,
        {{ reconstructed_raw_timestamp('raw_occurred_at', 'occurred_at') }} as occurred_at,
        {{ reconstructed_raw_timestamp('raw_received_at', 'received_at') }} as received_at,
        {{ reconstructed_raw_text('raw_context_ip', 'context_ip') }} as context_ip,
        context_user_agent,
        context_page_url,
        context_referrer,
        {{ reconstructed_raw_text('raw_context_country', 'context_country') }} as context_country,
        properties,
        reason_as_of as rejection_reason
    from reasoned
    where reason_as_of is not null

)

select * from final
