-- TEMP stand-in until the consent helper's model lands (drop models/_standin/ at merge).
-- Current consent per person and purpose: the latest consent event through any
-- of the person's identifiers; granted when there is none (no regional defaults).
{{ config(schema='intermediate', materialized='table') }}

with

consent_events as (

    select * from {{ ref('stg_cmp__consent_events') }}

),

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

persons as (

    select * from {{ ref('int_persons_accounts') }}

),

resolved as (

    select
        identifiers.person_id,
        consent_events.purpose,
        consent_events.status,
        consent_events.occurred_at,
        consent_events.message_id
    from consent_events
    inner join identifiers
        on
            (identifiers.identifier_type = 'user_id' and consent_events.user_id = identifiers.identifier_value)
            or (identifiers.identifier_type = 'email' and consent_events.email = identifiers.identifier_value)
            or (
                identifiers.identifier_type = 'anonymous_id'
                and consent_events.anonymous_id = identifiers.identifier_value
            )
    where consent_events.occurred_at <= {{ as_of_timestamp() }}

),

latest as (

    select
        person_id,
        purpose,
        status,
        row_number() over (
            partition by person_id, purpose order by occurred_at desc, message_id desc
        ) as recency_rank
    from resolved

),

final as (

    select
        persons.person_id,
        {% for purpose in var('consent_purposes') %}
            coalesce(bool_or(case when latest.purpose = '{{ purpose }}' then latest.status = 'granted' end), true)
                as has_{{ purpose }}_consent,
        {% endfor %}
        cast(null as {{ dbt.type_string() }}) as region,
        false as is_opt_in_region
    from persons
    left join latest on persons.person_id = latest.person_id and latest.recency_rank = 1
    group by persons.person_id

)

select * from final
