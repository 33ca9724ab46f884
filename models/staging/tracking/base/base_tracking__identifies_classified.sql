-- Every raw identify call, parsed and normalized, with the first quarantine
-- rule it fails (NULL when accepted). The raw text of the parsed columns
-- (raw_*) is stored only where the parsed value does not give it back
-- (macros/raw_text.sql); NULL otherwise.
-- Incremental by received day, like the events classifier
-- (macros/incremental.sql): a build reclassifies only the received days from
-- the first one that gained raw rows (within the lookback) and the unparseable
-- bucket.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='received_day',
    on_schema_change='fail',
) }}
{%- set version = checked_classification_version([
    var('placeholder_identifiers'), var('future_tolerance_minutes'), raw_text_representation(),
]) %}
{%- set from_day_text = lookback_start_day_text() %}

with

{{ received_day_ctes(source('tracking', 'identifies'), from_day_text) }}

parsed as (

    select
        nullif(trim(message_id), '') as message_id,
        {{ clean_identifier('anonymous_id') }} as anonymous_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ normalize_email('email') }} as email,
        traits,
        {{ parse_timestamp('occurred_at') }} as occurred_at,
        received_at_utc as received_at,
        received_day,
        lower(trim(source)) as source,
        message_id as raw_message_id,
        anonymous_id as raw_anonymous_id,
        user_id as raw_user_id,
        email as raw_email,
        occurred_at as raw_occurred_at,
        received_at as raw_received_at,
        source as raw_source
    from received

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
        received_day,
        source,
        {{ stored_raw_text('raw_message_id', 'message_id') }} as raw_message_id,
        {{ stored_raw_text('raw_anonymous_id', 'anonymous_id') }} as raw_anonymous_id,
        {{ stored_raw_text('raw_user_id', 'user_id') }} as raw_user_id,
        {{ stored_raw_text('raw_email', 'email') }} as raw_email,
        {{ stored_raw_timestamp('raw_occurred_at', 'occurred_at') }} as raw_occurred_at,
        {{ stored_raw_timestamp('raw_received_at', 'received_at') }} as raw_received_at,
        {{ stored_raw_text('raw_source', 'source') }} as raw_source,
        failed_rule,
        rejection_reason,
        '{{ version }}' as classification_version
    from classified

)

select * from final
