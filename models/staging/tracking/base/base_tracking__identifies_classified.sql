-- Every raw identify call, parsed and normalized, with the first quarantine
-- rule it fails (NULL when accepted).
with

source as (

    select * from {{ source('tracking', 'identifies') }}

),

parsed as (

    select
        nullif(trim(message_id), '') as message_id,
        {{ clean_identifier('anonymous_id') }} as anonymous_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ normalize_email('email') }} as email,
        traits,
        {{ parse_timestamp('occurred_at') }} as occurred_at,
        {{ parse_timestamp('received_at') }} as received_at,
        lower(trim(source)) as source,
        message_id as raw_message_id,
        anonymous_id as raw_anonymous_id,
        user_id as raw_user_id,
        email as raw_email,
        occurred_at as raw_occurred_at,
        received_at as raw_received_at,
        source as raw_source
    from source

),

{{ quarantine_ctes('parsed', [
    ('missing_message_id', 'message_id is null'),
] + timestamp_rules() + [
    ('no_identifier', 'anonymous_id is null and user_id is null and email is null'),
]) }},

final as (

    select * from classified

)

select * from final
