-- Plan and customer status per person. The CRM contact (through a contact_id
-- or email identifier of the person; the most recently updated one) is the
-- system of record; without one, the latest commerce event decides
-- (Subscription_Started: its plan, Plan_Upgraded: to_plan,
-- Subscription_Cancelled: free), and a product user who never subscribed is on free.
with

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

-- Not materialized: each use below filters it (commerce events, product
-- events), and DuckDB pushes those filters into the scan.
events as not materialized (

    select * from {{ ref('int_events_weighted') }}

),

persons as (

    select distinct person_id from {{ ref('int_person_identifiers') }}

),

contact_matches as (

    select
        identifiers.person_id,
        contacts.*
    from identifiers
    inner join contacts
        on identifiers.identifier_type = 'contact_id' and identifiers.identifier_value = contacts.contact_id
    union all
    select
        identifiers.person_id,
        contacts.*
    from identifiers
    inner join contacts
        on identifiers.identifier_type = 'email' and identifiers.identifier_value = contacts.email

),

latest_contact as (

    select
        *,
        row_number() over (
            partition by person_id
            order by updated_at desc nulls last, contact_id asc
        ) as contact_rank
    from contact_matches

),

commerce_events as (

    select
        person_id,
        event_name,
        occurred_at,
        event_id,
        case event_name
            when 'Subscription_Started' then lower({{ json_text('properties', "'plan'") }})
            when 'Plan_Upgraded' then lower({{ json_text('properties', "'to_plan'") }})
            when 'Subscription_Cancelled' then 'free'
        end as plan
    from events
    where event_name in ('Subscription_Started', 'Plan_Upgraded', 'Subscription_Cancelled')

),

latest_commerce as (

    select
        *,
        row_number() over (partition by person_id order by occurred_at desc, event_id desc) as event_rank
    from commerce_events

),

product_users as (

    -- Persons with a product event, from their scores (a second grouping of
    -- every event here was ~1 s of a 10M-event build).
    select person_id from {{ ref('int_persons_scored') }}
    where last_product_event_at is not null

),

final as (

    select
        persons.person_id,
        latest_contact.contact_id,
        latest_contact.lifecycle_status as crm_lifecycle_status,
        latest_contact.plan as crm_plan,
        latest_commerce.plan as event_plan,
        coalesce(
            latest_contact.plan,
            latest_commerce.plan,
            case when product_users.person_id is not null then 'free' end
        ) as plan,
        product_users.person_id is not null as is_product_user,
        coalesce(
            latest_contact.lifecycle_status = 'customer',
            latest_commerce.plan in ('pro', 'enterprise'),
            false
        ) as is_customer,
        coalesce(
            latest_contact.lifecycle_status = 'former_customer',
            latest_commerce.event_name = 'Subscription_Cancelled',
            false
        ) as is_former_customer
    from persons
    left join latest_contact on persons.person_id = latest_contact.person_id and latest_contact.contact_rank = 1
    left join latest_commerce on persons.person_id = latest_commerce.person_id and latest_commerce.event_rank = 1
    left join product_users on persons.person_id = product_users.person_id

)

select * from final
