-- TEMP stand-in until the consent helper's model lands (drop models/_standin/ at merge).
-- Persons with a deletion request through any of their identifiers.
{{ config(schema='intermediate', materialized='table') }}

with

requests as (

    select * from {{ ref('stg_privacy__deletion_requests') }}

),

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

matched as (

    select
        identifiers.person_id,
        requests.requested_at
    from requests
    inner join identifiers
        on
            (identifiers.identifier_type = 'user_id' and requests.user_id = identifiers.identifier_value)
            or (identifiers.identifier_type = 'email' and requests.email = identifiers.identifier_value)
            or (identifiers.identifier_type = 'anonymous_id' and requests.anonymous_id = identifiers.identifier_value)

),

final as (

    select
        person_id,
        min(requested_at) as requested_at
    from matched
    group by person_id

)

select * from final
