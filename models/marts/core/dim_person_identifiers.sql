-- The identity map: one row per identifier with its person; emails only as
-- lower-case hex SHA-256 of the normalized address.
with

identity_map as (

    select * from {{ ref('int_identity_graph') }}

),

edges as (

    select * from {{ ref('int_identity_edges') }}

),

{#- Every identifier has a self pair in the edges: when it was seen at all. #}
sightings as (

    select
        left_type as identifier_type,
        left_value as identifier_value,
        first_seen_at,
        last_seen_at
    from edges
    where left_type = right_type and left_value = right_value

),

final as (

    select
        cast(identity_map.identifier_type as {{ dbt.type_string() }}) as identifier_type,
        cast(
            case
                when identity_map.identifier_type = 'email'
                    then {{ hash_email('identity_map.identifier_value') }}
                else identity_map.identifier_value
            end as {{ dbt.type_string() }}
        ) as identifier_value,
        cast(identity_map.person_id as {{ dbt.type_string() }}) as person_id,
        identity_map.is_shared_device,
        cast(sightings.first_seen_at as timestamp) as first_seen_at,
        cast(sightings.last_seen_at as timestamp) as last_seen_at
    from identity_map
    left join sightings
        on
            identity_map.identifier_type = sightings.identifier_type
            and identity_map.identifier_value = sightings.identifier_value

)

select * from final
