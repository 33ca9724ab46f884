-- Accepted identify calls: the moments an anonymous device was tied to a
-- user id and/or email.
-- A view: it only filters the classified table, so no second copy is written.
{{ config(materialized='view') }}
with

classified as (

    select * from {{ ref('base_tracking__identifies_classified') }}

),

final as (

    select
        message_id,
        anonymous_id,
        user_id,
        email,
        traits,
        occurred_at,
        received_at,
        source
    from classified
    where rejection_reason is null

)

select * from final
