-- The identity map: one row per identifier with its person; emails only as
-- lower-case hex SHA-256 of the normalized address. Deleted persons are gone.
with

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

final as (

    select
        cast(identifiers.identifier_type as {{ dbt.type_string() }}) as identifier_type,
        cast(
            case
                when identifiers.identifier_type = 'email'
                    then {{ hash_email('identifiers.identifier_value') }}
                else identifiers.identifier_value
            end as {{ dbt.type_string() }}
        ) as identifier_value,
        cast(identifiers.person_id as {{ dbt.type_string() }}) as person_id,
        identifiers.is_shared_device,
        cast(identifiers.first_seen_at as timestamp) as first_seen_at,
        cast(identifiers.last_seen_at as timestamp) as last_seen_at
    from identifiers
    where {{ is_not_deleted_person('identifiers.person_id') }}

)

select * from final
