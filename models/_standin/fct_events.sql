-- TEMP stand-in until the consent helper's fct_events lands (drop models/_standin/ at merge).
-- Accepted events resolved to persons and accounts, minus deleted persons and
-- events without analytics consent (stand-in: current consent, not as-of).
{{ config(schema='marts', materialized='table') }}

with

events as (

    select * from {{ ref('stg_tracking__events') }}

),

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

persons_accounts as (

    select * from {{ ref('int_persons_accounts') }}

),

consent as (

    select * from {{ ref('int_persons_consent_current') }}

),

deleted as (

    select * from {{ ref('int_deleted_persons') }}

),

resolved as (

    select
        events.*,
        coalesce(by_user.person_id, by_email.person_id, by_anonymous.person_id) as person_id
    from events
    left join identifiers as by_user
        on by_user.identifier_type = 'user_id' and events.user_id = by_user.identifier_value
    left join identifiers as by_email
        on by_email.identifier_type = 'email' and events.email = by_email.identifier_value
    left join identifiers as by_anonymous
        on by_anonymous.identifier_type = 'anonymous_id' and events.anonymous_id = by_anonymous.identifier_value

),

final as (

    select
        resolved.message_id as event_id,
        resolved.event_name,
        resolved.event_category,
        resolved.score_category,
        resolved.person_id,
        persons_accounts.account_id,
        resolved.occurred_at,
        resolved.received_at,
        resolved.source,
        resolved.properties
    from resolved
    inner join persons_accounts on resolved.person_id = persons_accounts.person_id
    left join consent on resolved.person_id = consent.person_id
    where
        coalesce(consent.has_analytics_consent, true)
        and resolved.person_id not in (select deleted.person_id from deleted)

)

select * from final
