{#- Data tests of an identity map (int_identity_graph and its SQL twin). -#}

{#- Every identifier of the edges has a row in the map. -#}
{% test identity_graph_covers_edges(model, edges) %}

with

edge_identifiers as (

    select left_type as identifier_type, left_value as identifier_value from {{ edges }}
    union
    select right_type as identifier_type, right_value as identifier_value from {{ edges }}

),

final as (

    select edge_identifiers.*
    from edge_identifiers
    left join {{ model }} as identity_map
        on
            edge_identifiers.identifier_type = identity_map.identifier_type
            and edge_identifiers.identifier_value = identity_map.identifier_value
    where identity_map.person_id is null

)

select * from final

{% endtest %}

{#- Merge protection: no person holds two user ids, and a person holding one is anchored on it. -#}
{% test identity_one_user_id_per_person(model) %}

with

persons as (

    select
        person_id,
        count(distinct case when identifier_type = 'user_id' then identifier_value end) as n_user_ids,
        max(anchor_type) as anchor_type,
        min(anchor_type) as min_anchor_type
    from {{ model }}
    group by person_id

),

final as (

    select *
    from persons
    where
        n_user_ids > 1
        or (n_user_ids = 1 and (anchor_type <> 'user_id' or min_anchor_type <> 'user_id'))

)

select * from final

{% endtest %}

{#- The iterations converged: two identifiers linked by an edge (neither shared)
    are in the same person unless both persons hold a user id (merge protection).
    Fails when the SQL implementation ran out of rounds (var identity_max_rounds). -#}
{% test identity_graph_converged(model, edges) %}

with

links as (

    select * from {{ edges }}
    where not (left_type = right_type and left_value = right_value)

),

final as (

    select
        links.left_type,
        links.left_value,
        links.right_type,
        links.right_value,
        left_map.person_id as left_person_id,
        right_map.person_id as right_person_id
    from links
    inner join {{ model }} as left_map
        on
            links.left_type = left_map.identifier_type
            and links.left_value = left_map.identifier_value
    inner join {{ model }} as right_map
        on
            links.right_type = right_map.identifier_type
            and links.right_value = right_map.identifier_value
    where
        not left_map.is_shared_device
        and not right_map.is_shared_device
        and left_map.person_id <> right_map.person_id
        and not (left_map.anchor_type = 'user_id' and right_map.anchor_type = 'user_id')

)

select * from final

{% endtest %}

{#- No placeholder (var placeholder_identifiers, or only zeros and dashes) is an
    identifier, and emails arrive normalized (trimmed, lower-cased). -#}
{% test identity_values_clean(model) %}

with

sides as (

    select left_type as identifier_type, left_value as identifier_value from {{ model }}
    union
    select right_type as identifier_type, right_value as identifier_value from {{ model }}

),

final as (

    select *
    from sides
    where
        lower(trim(identifier_value)) in (
            {%- for value in var('placeholder_identifiers') %}'{{ value }}'{{ ", " if not loop.last }}{% endfor -%}
        )
        or {{ regex_matches('identifier_value', "'^[0-]+$'") }}
        or identifier_value <> trim(identifier_value)
        or (identifier_type = 'email' and identifier_value <> lower(identifier_value))

)

select * from final

{% endtest %}
