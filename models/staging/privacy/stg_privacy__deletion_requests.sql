-- Right-to-delete requests with their identifiers normalized like events'.
with

source as (

    select * from {{ source('privacy', 'deletion_requests') }}

),

parsed as (

    select
        nullif(trim(request_id), '') as request_id,
        {{ clean_identifier('anonymous_id') }} as anonymous_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ normalize_email('email') }} as email,
        {{ parse_timestamp('requested_at') }} as requested_at
    from source

),

deduplicated as (

    select
        *,
        row_number() over (partition by request_id order by requested_at) as copy_rank
    from parsed
    where request_id is not null

),

final as (

    select
        request_id,
        anonymous_id,
        user_id,
        email,
        requested_at
    from deduplicated
    where copy_rank = 1

)

select * from final
