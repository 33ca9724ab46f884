-- Accepted identify calls: the moments an anonymous device was tied to a
-- user id and/or email.
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
