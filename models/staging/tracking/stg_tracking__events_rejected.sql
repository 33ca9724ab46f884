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
        raw_message_id as message_id,
        raw_event as event,
        raw_anonymous_id as anonymous_id,
        raw_user_id as user_id,
        raw_email as email,
        raw_source as source,
        raw_occurred_at as occurred_at,
        raw_received_at as received_at,
        context_ip,
        context_user_agent,
        context_page_url,
        context_referrer,
        raw_context_country as context_country,
        properties,
        reason_as_of as rejection_reason
    from reasoned
    where reason_as_of is not null

)

select * from final
