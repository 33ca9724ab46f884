-- Accepted consent events: one purpose, one status, at one moment, for the
-- identifiers on the row.
-- A view: it only filters the classified table, so no second copy is written.
{{ config(materialized='view') }}
with

classified as (

    select * from {{ ref('base_cmp__consent_events_classified') }}

),

final as (

    select
        message_id,
        anonymous_id,
        user_id,
        email,
        purpose,
        status,
        occurred_at,
        received_at,
        country,
        source
    from classified
    where rejection_reason is null

)

select * from final
