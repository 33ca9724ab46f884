-- Every raw event, parsed and normalized, with the first quarantine rule it
-- fails (NULL when accepted). stg_tracking__events and
-- stg_tracking__events_rejected split it; counts are conserved by construction.
-- Incremental: each build reclassifies only the received days from the first
-- one that gained raw rows (within a lookback; macros/incremental.sql explains
-- the buckets).
-- Nothing stored depends on as_of: the retention rule is applied by the two
-- views on top (macro event_rejection_reason).
-- The raw text of the parsed columns (raw_*) is stored only where the parsed
-- value does not give it back (macros/raw_text.sql); NULL otherwise.
-- The required-property and bot rules are generated from these seeds:
-- depends_on: {{ ref('event_taxonomy') }}
-- depends_on: {{ ref('bot_user_agent_patterns') }}
-- The CTEs inside the Jinja if and for blocks below stay at column 0:
-- sqlfluff:indentation:template_blocks_indent:False
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='received_day',
    on_schema_change='fail',
    uncompressed_columns=['message_id', 'anonymous_id', 'user_id', 'context_ip'],
) }}
{%- set required_properties = seed_rows('event_taxonomy', ['event_name', 'required_properties']) %}
{%- set bot_patterns = seed_rows('bot_user_agent_patterns', ['pattern']) %}
{%- set event_names = seed_rows(
    'event_taxonomy', ['event_name', 'aliases', 'category', 'score_category', 'consent_purpose']
) %}
{%- set version = checked_classification_version([
    required_properties, bot_patterns, event_names,
    var('placeholder_identifiers'), var('future_tolerance_minutes'),
    raw_text_representation(),
] + enum_storage_tags()) %}
{%- set from_day_text = lookback_start_day_text() %}
{#- The taxonomy columns and the version are stored as enums on DuckDB
    (macro stored_enum); the views on top give text back. #}
{%- set taxonomy = event_taxonomy_values() %}
{#- A DuckDB full refresh ranks the copies of a message apart: only the
    rows whose message_id another raw row carries too (found by grouping a
    64-bit hash of the id, far faster to group and join than the text: a
    shared hash only adds rows) are parsed twice and go through the dedupe
    window (`repeated_*`), which names the duplicates by rowid; the pass over
    every row looks them up. A window over every row and all its columns was most of a 10M-row
    full refresh (44 s); two whole branches split by a join on the text id
    took 30-33 s; this takes about 4 s less again (docs/benchmark.md). An
    incremental build ranks its few rows in one pass, and so does a unit
    test (its fixture rows have no row identity) and PostgreSQL
    (rank_copies_apart). #}
{%- set message_id = "nullif(trim(message_id), '')" %}
{%- set two_pass = rank_copies_apart() and not is_incremental()
    and not is_unit_test_fixture(source('tracking', 'events')) %}
{%- set branches = ['repeated', none] if two_pass else [none] %}


with

{{ received_day_ctes(source('tracking', 'events'), from_day_text, row_ids=two_pass) }}

event_names as (

    select * from {{ ref('stg_reference__event_names') }}

),
{%- if 'repeated' in branches %}

-- Buckets of the message ids (as parsed) that more than one raw row carries.
-- Rows without an id share the bucket of NULL's hash and are ranked too (they
-- fail missing_message_id first, so none is a copy): no filter on the scan,
-- whose second evaluation of the id cost 1.3 s at 10M rows.
repeated_message_buckets as (

    select hash({{ message_id }}) as message_bucket
    from {{ source('tracking', 'events') }}
    group by hash({{ message_id }})
    having count(*) > 1

),

-- Every copy of those message ids (and rows sharing their bucket), filtered
-- before anything is parsed.
repeated_received as (

    select
        *,
        {{ received_day('received_at_utc') }} as received_day
    from (
        select
            *,
            {{ raw_received_columns(row_ids=true) }}
        from {{ source('tracking', 'events') }}
        where hash({{ message_id }}) in (select message_bucket from repeated_message_buckets)
    ) as repeated_rows

),
{%- endif %}
{%- for branch in branches %}
{%- set prefix = branch ~ '_' if branch else '' %}

{{ prefix }}parsed as (

    select
        {%- if two_pass %}
        source.raw_row_id,
        {%- endif %}
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
        source.received_at_utc as received_at,
        source.received_day,
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
        source.context_ip as raw_context_ip,
        source.context_country as raw_context_country
    from {{ prefix }}received as source
    left join event_names
        on {{ normalize_event_name('source.event') }} = event_names.normalized_name

),

{{ quarantine_ctes(prefix ~ 'parsed', [
    ('missing_message_id', 'message_id is null'),
] + timestamp_rules() + [
    ('unknown_event', 'event_name is null'),
    ('missing_required_property', missing_required_property('event_name', 'properties', required_properties)),
    ('no_identifier', 'anonymous_id is null and user_id is null and email is null'),
    ('bot_user_agent', matches_any_pattern('context_user_agent', bot_patterns | map(attribute=0) | list)),
], prefix=prefix,
    rank_copies=not two_pass or branch == 'repeated',
    known_duplicates='repeated_duplicates' if two_pass and not branch else none,
) }},
{%- if branch == 'repeated' %}

repeated_duplicates as (

    select raw_row_id from repeated_classified
    where rejection_reason = 'duplicate_message_id'

),
{%- endif %}
{%- endfor %}

final as (

    select
        message_id,
        {{ stored_enum('event_name', taxonomy.get('event_name')) }} as event_name,
        {{ stored_enum('event_category', taxonomy.get('event_category')) }} as event_category,
        {{ stored_enum('score_category', taxonomy.get('score_category')) }} as score_category,
        {{ stored_enum('consent_purpose', taxonomy.get('consent_purpose')) }} as consent_purpose,
        anonymous_id,
        user_id,
        email,
        source,
        occurred_at,
        received_at,
        received_day,
        context_ip,
        context_user_agent,
        context_page_url,
        context_referrer,
        context_country,
        properties,
        {{ stored_raw_text('raw_message_id', 'message_id') }} as raw_message_id,
        {{ stored_raw_text('raw_event', 'event_name') }} as raw_event,
        {{ stored_raw_text('raw_anonymous_id', 'anonymous_id') }} as raw_anonymous_id,
        {{ stored_raw_text('raw_user_id', 'user_id') }} as raw_user_id,
        {{ stored_raw_text('raw_email', 'email') }} as raw_email,
        {{ stored_raw_text('raw_source', 'source') }} as raw_source,
        {{ stored_raw_timestamp('raw_occurred_at', 'occurred_at') }} as raw_occurred_at,
        {{ stored_raw_timestamp('raw_received_at', 'received_at') }} as raw_received_at,
        {{ stored_raw_text('raw_context_ip', 'context_ip') }} as raw_context_ip,
        {{ stored_raw_text('raw_context_country', 'context_country') }} as raw_context_country,
        failed_rule,
        rejection_reason,
        {{ stored_enum("'" ~ version ~ "'", [version]) }} as classification_version
    from classified

)

select * from final
