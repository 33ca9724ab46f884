-- Every accepted event as classified (retention aside), resolved to its person
-- through its resolution key (user_id, else email, else anonymous_id) and to
-- the person's account, with the consent that held when it occurred and the
-- as_of-independent part of the reason it is kept out of fct_events:
-- unresolved, deleted_person, no_analytics_consent, no_purpose_consent.
-- int_events_resolved, a view, adds the as_of rules (retention, after_as_of).
-- Rows of deleted persons keep no person, account or properties: only their
-- id and reason remain, for the exclusion counts.
-- Incremental (macros/resolution.sql): a build re-resolves the events of the
-- received days the events classifier rewrote and those whose resolution
-- key's state (person, account, deletion, consent intervals) changed.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_id',
    on_schema_change='fail',
    uncompressed_columns=['event_id', 'person_id'],
    pre_hook=[
        "{{ resolution_hook('drop_next_states') }}",
        "{{ resolution_hook('write_next_states') }}",
        "{{ resolution_hook('delete_reprocessed_days') }}",
    ],
    post_hook=[
        "{{ resolution_hook('drop_states') }}",
        "{{ resolution_hook('promote_next_states') }}",
    ],
) }}
{%- set from_day = date_literal(resolution_from_day_text()) %}
{#- On DuckDB the taxonomy columns come from the events classifier as enums
    (macro stored_enum) and are stored as they are; the two computed below
    are stored as enums too. Not for a unit test's fixture rows. #}
{%- set taxonomy = {} if is_unit_test_fixture(ref('base_tracking__events_classified'))
    else event_taxonomy_values() %}
{%- set purposes = taxonomy.get('consent_purpose') %}
{%- set stored_reasons = stored_exclusion_rules() | map(attribute=0) | list if taxonomy else none %}

with

classified as (

    -- Not stg_tracking__events: its retention filter moves with as_of, and
    -- nothing stored here may depend on as_of.
    select * from {{ ref('base_tracking__events_classified') }}
    where rejection_reason is null

),

accounts as (

    select * from {{ ref('int_persons_accounts') }}

),

deleted_persons as (

    select * from {{ ref('int_deleted_persons') }}

),

intervals as (

    select * from {{ ref('int_consent_intervals') }}

),

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

-- Not materialized: PostgreSQL's incremental build reads it in two branches.
keyed as not materialized (

    select
        classified.message_id,
        classified.event_name,
        classified.event_category,
        classified.score_category,
        classified.source,
        classified.occurred_at,
        classified.received_at,
        classified.received_day,
        classified.properties,
        classified.consent_purpose,
        {{ resolution_key_type('classified') }} as key_type,
        {{ resolution_key_value('classified') }} as key_value
    from classified

),
{%- if is_incremental() %}

current_states as (

    select * from {{ resolution_states_relation('__next') }}

),

previous_states as (

    {%- if resolution_states_exist() %}
    select * from {{ resolution_states_relation() }}
    {%- else %}
    select key_type, key_value, state_hash from current_states where false
    {%- endif %}

),

changed_keys as (

    select coalesce(current_states.key_type, previous_states.key_type) as key_type,
        coalesce(current_states.key_value, previous_states.key_value) as key_value
    from current_states
    full outer join previous_states
        on
            current_states.key_type = previous_states.key_type
            and current_states.key_value = previous_states.key_value
    where current_states.state_hash is distinct from previous_states.state_hash

),
{%- endif %}

events as (

    select keyed.* from keyed
    {%- if is_incremental() and changed_keys_by_left_join() %}
    -- One scan (a second reference to keyed would materialize it): the new
    -- and late events (the days the pre-hook deleted) and the earlier events
    -- whose key's person, account, deletion or consent changed.
    left join changed_keys
        on keyed.key_type = changed_keys.key_type and keyed.key_value = changed_keys.key_value
    where keyed.received_day >= {{ from_day }} or changed_keys.key_type is not null
    {%- elif is_incremental() %}
    -- The same rows in two branches (macro changed_keys_by_left_join).
    where keyed.received_day >= {{ from_day }}
    union all
    select keyed.* from keyed
    where
        keyed.received_day < {{ from_day }}
        and exists (
            select 1 from changed_keys
            where keyed.key_type = changed_keys.key_type and keyed.key_value = changed_keys.key_value
        )
    {%- endif %}

),

resolved as (

    select
        events.*,
        identifiers.person_id
    from events
    left join identifiers
        on events.key_type = identifiers.identifier_type and events.key_value = identifiers.identifier_value

),

with_consent as (

    select
        resolved.*,
        accounts.account_id,
        deleted_persons.person_id is not null as is_deleted_person,
        coalesce(analytics.is_granted, false) as has_analytics_consent,
        coalesce(purpose_consent.is_granted, false) as has_purpose_consent
    from resolved
    left join accounts on resolved.person_id = accounts.person_id
    left join deleted_persons on resolved.person_id = deleted_persons.person_id
    left join intervals as analytics
        on
            resolved.person_id = analytics.person_id
            and analytics.purpose = 'analytics'
            and {{ in_consent_interval('resolved.occurred_at', 'analytics') }}
    left join intervals as purpose_consent
        on
            resolved.person_id = purpose_consent.person_id
            and coalesce(resolved.consent_purpose, 'analytics') = purpose_consent.purpose
            and {{ in_consent_interval('resolved.occurred_at', 'purpose_consent') }}

),

final as (

    select
        message_id as event_id,
        event_name,
        event_category,
        score_category,
        {{ stored_enum(
            "coalesce(consent_purpose, 'analytics')", purposes + ['analytics'] if purposes else none
        ) }} as consent_purpose,
        source,
        occurred_at,
        received_at,
        received_day,
        has_analytics_consent,
        has_purpose_consent,
        {{ stored_enum(first_failing_rule(stored_exclusion_rules()), stored_reasons) }} as exclusion_reason,
        case when not is_deleted_person then person_id end as person_id,
        case when not is_deleted_person then account_id end as account_id,
        case when not is_deleted_person then properties end as properties
    from with_consent

)

select * from final
