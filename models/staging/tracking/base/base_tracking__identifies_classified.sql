-- Every raw identify call, parsed and normalized, with the first quarantine
-- rule it fails (NULL when accepted). The raw text of the parsed columns
-- (raw_*) is stored only where the parsed value does not give it back
-- (macros/raw_text.sql); NULL otherwise.
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

    select
        message_id,
        anonymous_id,
        user_id,
        email,
        traits,
        occurred_at,
        received_at,
        source,
        {{ stored_raw_text('raw_message_id', 'message_id') }} as raw_message_id,
        {{ stored_raw_text('raw_anonymous_id', 'anonymous_id') }} as raw_anonymous_id,
        {{ stored_raw_text('raw_user_id', 'user_id') }} as raw_user_id,
        {{ stored_raw_text('raw_email', 'email') }} as raw_email,
        {{ stored_raw_timestamp('raw_occurred_at', 'occurred_at') }} as raw_occurred_at,
        {{ stored_raw_timestamp('raw_received_at', 'received_at') }} as raw_received_at,
        {{ stored_raw_text('raw_source', 'source') }} as raw_source,
        failed_rule,
        rejection_reason
    from classified

)

select * from final
