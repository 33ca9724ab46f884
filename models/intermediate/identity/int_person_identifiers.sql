-- One row per identifier with its person and when it was first and last seen:
-- the interface every downstream model uses (the identity graph's
-- implementation, Python or SQL, stays behind it).
with

identity_map as (

    select * from {{ ref('int_identity_graph') }}

),

edges as (

    select * from {{ ref('int_identity_edges') }}

),

sightings as (

    -- Every identifier has a self pair in the edges: when it was seen at all.
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
        identity_map.identifier_type,
        identity_map.identifier_value,
        identity_map.person_id,
        identity_map.anchor_type,
        identity_map.anchor_value,
        identity_map.is_shared_device,
        sightings.first_seen_at,
        sightings.last_seen_at
    from identity_map
    left join sightings
        on
            identity_map.identifier_type = sightings.identifier_type
            and identity_map.identifier_value = sightings.identifier_value

)

select * from final
