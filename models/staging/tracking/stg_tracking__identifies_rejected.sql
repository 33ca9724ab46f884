-- Quarantined identify calls as sent, each with the first rule it failed.
-- A view: it only filters the classified table, so no second copy is written.
{{ config(materialized='view') }}
with

classified as (

    select * from {{ ref('base_tracking__identifies_classified') }}

),

final as (

    select
        {{ reconstructed_raw_text('raw_message_id', 'message_id') }} as message_id,
        {{ reconstructed_raw_text('raw_anonymous_id', 'anonymous_id') }} as anonymous_id,
        {{ reconstructed_raw_text('raw_user_id', 'user_id') }} as user_id,
        {{ reconstructed_raw_text('raw_email', 'email') }} as email,
        traits,
        {{ reconstructed_raw_timestamp('raw_occurred_at', 'occurred_at') }} as occurred_at,
        {{ reconstructed_raw_timestamp('raw_received_at', 'received_at') }} as received_at,
        {{ reconstructed_raw_text('raw_source', 'source') }} as source,
        rejection_reason
    from classified
    where rejection_reason is not null

)

select * from final
