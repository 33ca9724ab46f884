-- Every raw event, parsed and normalized, with the first quarantine rule it
-- fails (NULL when accepted). stg_tracking__events and
-- stg_tracking__events_rejected split it; counts are conserved by construction.
-- The required-property and bot rules are generated from these seeds:
-- depends_on: {{ ref('event_taxonomy') }}
-- depends_on: {{ ref('bot_user_agent_patterns') }}
{%- set required_properties = seed_rows('event_taxonomy', ['event_name', 'required_properties']) %}
{%- set bot_patterns = seed_rows('bot_user_agent_patterns', ['pattern']) %}


with

source as (

    select * from {{ source('tracking', 'events') }}

),

event_names as (

    select * from {{ ref('stg_reference__event_names') }}

),

parsed as (

    select
        nullif(trim(source.message_id), '') as message_id,
        event_names.event_name,
        event_names.event_category,
        event_names.score_category,
        event_names.consent_purpose,
        {{ clean_identifier('source.anonymous_id') }} as anonymous_id,
        {{ clean_identifier('source.user_id') }} as user_id,
        {{ normalize_email('source.email') }} as email,
        lower(trim(source.source)) as source,
        {{ parse_timestamp('source.occurred_at') }} as occurred_at,
        {{ parse_timestamp('source.received_at') }} as received_at,
        trim(source.context_ip) as context_ip,
        source.context_user_agent,
        source.context_page_url,
        source.context_referrer,
        upper(trim(source.context_country)) as context_country,
        source.properties,
        source.message_id as raw_message_id,
        source.event as raw_event,
        source.anonymous_id as raw_anonymous_id,
        source.user_id as raw_user_id,
        source.email as raw_email,
        source.source as raw_source,
        source.occurred_at as raw_occurred_at,
        source.received_at as raw_received_at,
        source.context_country as raw_context_country
    from source
    left join event_names
        on {{ normalize_event_name('source.event') }} = event_names.normalized_name

),

{{ quarantine_ctes('parsed', [
    ('missing_message_id', 'message_id is null'),
] + timestamp_rules() + [
    ('outside_retention', 'occurred_at < ' ~ dbt.dateadd('day', -var('retention_days'), as_of_timestamp())),
    ('unknown_event', 'event_name is null'),
    ('missing_required_property', missing_required_property('event_name', 'properties', required_properties)),
    ('no_identifier', 'anonymous_id is null and user_id is null and email is null'),
    ('bot_user_agent', matches_any_pattern('context_user_agent', bot_patterns | map(attribute=0) | list)),
]) }},

final as (

    select * from classified

)

select * from final
