-- Quarantined identify calls as sent, each with the first rule it failed.
with

classified as (

    select * from {{ ref('base_tracking__identifies_classified') }}

),

final as (

    select
        raw_message_id as message_id,
        raw_anonymous_id as anonymous_id,
        raw_user_id as user_id,
        raw_email as email,
        traits,
        raw_occurred_at as occurred_at,
        raw_received_at as received_at,
        raw_source as source,
        rejection_reason
    from classified
    where rejection_reason is not null

)

select * from final
