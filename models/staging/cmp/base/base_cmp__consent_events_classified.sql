-- Every raw consent event, parsed and normalized, with the first quarantine
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
{%- set purposes = var('consent_purposes') %}
{%- set statuses = ['granted', 'denied', 'withdrawn'] %}
{%- set version = checked_classification_version([
    purposes, statuses,
    var('placeholder_identifiers'), var('future_tolerance_minutes'), raw_text_representation(),
]) %}
{%- set from_day_text = lookback_start_day_text() %}

with

{{ received_day_ctes(source('cmp', 'consent_events'), from_day_text) }}

parsed as (

    select
        nullif(trim(message_id), '') as message_id,
        {{ clean_identifier('anonymous_id') }} as anonymous_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ normalize_email('email') }} as email,
        lower(trim(purpose)) as purpose,
        lower(trim(status)) as status,
        {{ parse_timestamp('occurred_at') }} as occurred_at,
        received_at_utc as received_at,
        received_day,
        upper(trim(country)) as country,
        lower(trim(source)) as source,
        message_id as raw_message_id,
        anonymous_id as raw_anonymous_id,
        user_id as raw_user_id,
        email as raw_email,
        purpose as raw_purpose,
        status as raw_status,
        occurred_at as raw_occurred_at,
        received_at as raw_received_at,
        country as raw_country,
        source as raw_source
    from received

),

{{ quarantine_ctes('parsed', [
    ('missing_message_id', 'message_id is null'),
] + timestamp_rules() + [
    ('invalid_value', "purpose is null or purpose not in ('" ~ purposes | join("', '") ~ "')"
        ~ " or status is null or status not in ('" ~ statuses | join("', '") ~ "')"),
    ('no_identifier', 'anonymous_id is null and user_id is null and email is null'),
]) }},

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
        received_day,
        country,
        source,
        {{ stored_raw_text('raw_message_id', 'message_id') }} as raw_message_id,
        {{ stored_raw_text('raw_anonymous_id', 'anonymous_id') }} as raw_anonymous_id,
        {{ stored_raw_text('raw_user_id', 'user_id') }} as raw_user_id,
        {{ stored_raw_text('raw_email', 'email') }} as raw_email,
        {{ stored_raw_text('raw_purpose', 'purpose') }} as raw_purpose,
        {{ stored_raw_text('raw_status', 'status') }} as raw_status,
        {{ stored_raw_timestamp('raw_occurred_at', 'occurred_at') }} as raw_occurred_at,
        {{ stored_raw_timestamp('raw_received_at', 'received_at') }} as raw_received_at,
        {{ stored_raw_text('raw_country', 'country') }} as raw_country,
        {{ stored_raw_text('raw_source', 'source') }} as raw_source,
        failed_rule,
        rejection_reason,
        '{{ version }}' as classification_version
    from classified

)

select * from final
