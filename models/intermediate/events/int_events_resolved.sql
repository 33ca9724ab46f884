-- Every accepted event, resolved to its person (through its user_id, else
-- email, else anonymous_id) and account, with the consent that held when it
-- occurred and the reason it is kept out of fct_events (NULL when it is kept).
-- Exclusion reasons (macro event_exclusion_rules), first matching wins:
-- unresolved, deleted_person, outside_retention, after_as_of,
-- no_analytics_consent, no_purpose_consent.
-- Rows of deleted persons keep no person, account or properties: only their
-- id and reason remain, for the exclusion counts.
with

events as (

    select * from {{ ref('stg_tracking__events') }}

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

resolved as (

    select
        events.message_id,
        events.event_name,
        events.event_category,
        events.score_category,
        events.source,
        events.occurred_at,
        events.received_at,
        events.properties,
        coalesce(events.consent_purpose, 'analytics') as consent_purpose,
        {{ resolved_person_id() }} as person_id
    from events
    {{ join_person_identifiers('events') }}

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
            and resolved.consent_purpose = purpose_consent.purpose
            and {{ in_consent_interval('resolved.occurred_at', 'purpose_consent') }}

),

classified as (

    select
        *,
        {{ first_failing_rule(event_exclusion_rules()) }} as exclusion_reason
    from with_consent

),

final as (

    select
        message_id as event_id,
        event_name,
        event_category,
        score_category,
        consent_purpose,
        source,
        occurred_at,
        received_at,
        has_analytics_consent,
        has_purpose_consent,
        exclusion_reason,
        case when not is_deleted_person then person_id end as person_id,
        case when not is_deleted_person then account_id end as account_id,
        case when not is_deleted_person then properties end as properties
    from classified

)

select * from final
