{# The SQL implementation of identity resolution: the same contract as
    segmentation/identity.py (`resolve_identities`, whose docstring states the
    rules), with iterative set operations unrolled into a fixed number of rounds
    (var identity_max_rounds); the data test assert_identity_graph_converged
    fails when that was not enough. `edges` is a relation with the columns of
    int_identity_edges.

    Speed: text keys are grouped, sorted and joined once (building the nodes and
    mapping the pairs to node ids); every round then works on integer node ids
    only, and the text comes back in the final joins. Each round touches only
    what can still change (the breadth-first frontier; the clusters not yet
    closed), so the unrolled rounds after convergence cost next to nothing. -#}
{% macro identity_graph_sql(edges) -%}
{%- set max_rounds = var('identity_max_rounds') | int -%}
with

{# Identifiers are keyed by (type_rank, value): an integer and a string hash,
    group and join faster than two strings. Types other than the four of the
    contract (resolve_identities rejects them) get no rank: their identifiers
    are left out, which the data test identity_graph_covers_edges reports.
    `edges` is read twice: not wrapped in a CTE, which DuckDB would materialize.
    A self pair's right side repeats its left side: only its left side counts.
    is_linked: the endpoint of a pair between two different identifiers. #}
endpoints as (

    select
        {{ identity_type_rank('left_type') }} as type_rank,
        left_value as identifier_value,
        first_seen_at,
        case
            when left_type = right_type and left_value = right_value then 0
            else 1
        end as is_linked
    from {{ edges }}

    union all

    select
        {{ identity_type_rank('right_type') }} as type_rank,
        right_value as identifier_value,
        first_seen_at,
        1 as is_linked
    from {{ edges }}
    where not (left_type = right_type and left_value = right_value)

),

grouped_nodes as {{ identity_materialized() }} (

    select
        type_rank,
        identifier_value,
        min(first_seen_at) as first_seen_at,
        max(is_linked) as is_linked
    from endpoints
    where type_rank is not null
    group by type_rank, identifier_value

),

{# An identifier in no pair with another one (2.1M of 5.6M at 5M) is a person
    of its own and never compared with another: it skips the node ids, the
    joins and the rounds, and goes straight to the output. #}
solo_nodes as (

    select
        {{ identity_type_name('type_rank') }} as identifier_type,
        identifier_value
    from grouped_nodes
    where is_linked = 0

),

{# Identifiers with a link only. node_id follows the identifier order, so
    every "first in identifier order" is a min(node_id): type rank * 2^40 + the
    rank within the type (one sort per type, which parallelizes better than one
    global sort; the ids need not be dense). #}
nodes as {{ identity_materialized() }} (

    select
        {{ identity_type_name('type_rank') }} as identifier_type,
        identifier_value,
        type_rank,
        type_rank * 1099511627776 + row_number() over (
            partition by type_rank
            order by first_seen_at, {{ identity_bytewise('identifier_value') }}
        ) as node_id
    from grouped_nodes
    where is_linked = 1

),

proper_edges as (

    select
        {{ identity_type_rank('left_type') }} as left_rank,
        left_value,
        {{ identity_type_rank('right_type') }} as right_rank,
        right_value,
        last_seen_at
    from {{ edges }}
    where not (left_type = right_type and left_value = right_value)

),

{# The only joins on text keys before the final one. #}
pairs as {{ identity_materialized() }} (

    select
        left_nodes.node_id as left_id,
        left_nodes.type_rank as left_rank,
        right_nodes.node_id as right_id,
        right_nodes.type_rank as right_rank,
        proper_edges.last_seen_at
    from proper_edges
    inner join nodes as left_nodes
        on
            proper_edges.left_rank = left_nodes.type_rank
            and proper_edges.left_value = left_nodes.identifier_value
    inner join nodes as right_nodes
        on
            proper_edges.right_rank = right_nodes.type_rank
            and proper_edges.right_value = right_nodes.identifier_value

),

arcs as (

    select
        left_id as src_id,
        left_rank as src_rank,
        right_id as dst_id,
        right_rank as dst_rank,
        last_seen_at
    from pairs

    union all

    select
        right_id as src_id,
        right_rank as src_rank,
        left_id as dst_id,
        left_rank as dst_rank,
        last_seen_at
    from pairs

),

{%- set neighbour_limit -%}
    case
        when src_rank = 2 and dst_rank = 0 then {{ var('identity_max_user_ids_per_anonymous_id') | int }}
        when src_rank = 2 and dst_rank = 1 then {{ var('identity_max_emails_per_anonymous_id') | int }}
        else {{ var('identity_max_user_ids_per_email') | int }}
    end
{%- endset %}
limited_neighbours as (

    select
        src_id,
        src_rank,
        dst_id,
        dst_rank
    from arcs
    where
        (src_rank = 2 and dst_rank in (0, 1))
        or (src_rank = 1 and dst_rank = 0)

),

{# Arc counts bound distinct neighbour counts from above (a pair may come in
    both orientations): only identifiers with more arcs than the limit need
    the costlier distinct count. #}
busy_sources as (

    select
        src_id,
        dst_rank
    from limited_neighbours
    group by src_id, src_rank, dst_rank
    having count(*) > {{ neighbour_limit }}

),

busy_neighbours as (

    select
        limited_neighbours.src_id,
        limited_neighbours.src_rank,
        limited_neighbours.dst_id,
        limited_neighbours.dst_rank
    from limited_neighbours
    inner join busy_sources
        on
            limited_neighbours.src_id = busy_sources.src_id
            and limited_neighbours.dst_rank = busy_sources.dst_rank

),

shared_nodes as {{ identity_materialized() }} (

    select distinct src_id as node_id
    from busy_neighbours
    group by src_id, src_rank, dst_rank
    having count(distinct dst_id) > {{ neighbour_limit }}

),

{# Links into a user_id never label anything (user ids are labeled in round 0). #}
links as {{ identity_materialized() }} (

    select
        arcs.src_id,
        arcs.src_rank,
        arcs.dst_id,
        arcs.dst_rank,
        arcs.last_seen_at
    from arcs
    left join shared_nodes as shared_src
        on arcs.src_id = shared_src.node_id
    left join shared_nodes as shared_dst
        on arcs.dst_id = shared_dst.node_id
    where shared_src.node_id is null and shared_dst.node_id is null

),

{# Breadth-first search from every user_id at once. Round r labels the
    neighbours of round r-1's labels that are not labeled yet; in an undirected
    graph those are the neighbours not labeled in rounds r-1 and r-2 (round 0
    labels user ids only, which dst_rank > 0 already excludes). #}
labeled_0 as {{ identity_materialized() }} (

    select
        node_id,
        node_id as label
    from nodes
    where type_rank = 0

),

{# Round 1: the links out of a user_id, labeled by it (no join). #}
candidates_1 as (

    select
        dst_id as node_id,
        src_id as label,
        row_number() over (
            partition by dst_id
            order by last_seen_at desc, src_id
        ) as candidate_rank
    from links
    where src_rank = 0 and dst_rank > 0

),

labeled_1 as {{ identity_materialized() }} (

    select
        node_id,
        label
    from candidates_1
    where candidate_rank = 1

),
{% for round in range(2, max_rounds + 1) %}
candidates_{{ round }} as (

    select
        links.dst_id as node_id,
        labeled_{{ round - 1 }}.label,
        row_number() over (
            partition by links.dst_id
            order by links.last_seen_at desc, labeled_{{ round - 1 }}.label
        ) as candidate_rank
    from labeled_{{ round - 1 }}
    inner join links
        on labeled_{{ round - 1 }}.node_id = links.src_id
    left join labeled_{{ round - 1 }} as previous
        on links.dst_id = previous.node_id
    {%- if round > 2 %}
    left join labeled_{{ round - 2 }} as before_previous
        on links.dst_id = before_previous.node_id
    {%- endif %}
    where
        links.dst_rank > 0
        and previous.node_id is null
        {%- if round > 2 %}
        and before_previous.node_id is null
        {%- endif %}

),

labeled_{{ round }} as {{ identity_materialized() }} (

    select
        node_id,
        label
    from candidates_{{ round }}
    where candidate_rank = 1

),
{% endfor %}
labeled as {{ identity_materialized() }} (

    {% for round in range(0, max_rounds + 1) -%}
    select * from labeled_{{ round }}
    {% if not loop.last %}union all
    {% endif -%}
    {% endfor %}

),

{# Connected components of what no user_id reaches: each round every
    identifier takes the smallest representative among its own, its
    neighbours' and its representative's (Splink-style). Only identifiers with
    a link take part (the others are persons of their own). A cluster (the
    identifiers sharing a representative) with no link to another cluster is a
    whole component whose representative is its smallest identifier: it is
    settled and leaves the rounds. No user_id is in there (all are labeled):
    the rank filter spares most links the anti-joins. #}
component_links_0 as {{ identity_materialized() }} (

    select
        links.src_id,
        links.dst_id
    from links
    left join labeled as labeled_src
        on links.src_id = labeled_src.node_id
    left join labeled as labeled_dst
        on links.dst_id = labeled_dst.node_id
    where
        links.src_rank > 0
        and links.dst_rank > 0
        and labeled_src.node_id is null
        and labeled_dst.node_id is null

),

{# Round 1, written out: every identifier is its own representative, so every
    cluster is open (links join different identifiers), none is settled, and
    the new representative is the smallest of the identifier and its
    neighbours, without a join. #}
representatives_1 as {{ identity_materialized() }} (

    select
        src_id as node_id,
        least(src_id, min(dst_id)) as representative
    from component_links_0
    group by src_id

),

component_links_1 as (

    select
        src_id,
        dst_id
    from component_links_0

),
{% for round in range(2, max_rounds + 1) %}
linked_representatives_{{ round }} as {{ identity_materialized() }} (

    select
        component_links_{{ round - 1 }}.src_id,
        component_links_{{ round - 1 }}.dst_id,
        src_representatives.representative as src_representative,
        dst_representatives.representative as dst_representative
    from component_links_{{ round - 1 }}
    inner join representatives_{{ round - 1 }} as src_representatives
        on component_links_{{ round - 1 }}.src_id = src_representatives.node_id
    inner join representatives_{{ round - 1 }} as dst_representatives
        on component_links_{{ round - 1 }}.dst_id = dst_representatives.node_id

),

open_clusters_{{ round }} as {{ identity_materialized() }} (

    select distinct src_representative as representative
    from linked_representatives_{{ round }}
    where src_representative <> dst_representative

),

settled_{{ round }} as (

    select
        node_id,
        representative
    from representatives_{{ round - 1 }}
    where not exists (
        select 1 from open_clusters_{{ round }}
        where open_clusters_{{ round }}.representative = representatives_{{ round - 1 }}.representative
    )

),

{# Both ends of a link of an open cluster are in open clusters. #}
component_links_{{ round }} as {{ identity_materialized() }} (

    select
        src_id,
        dst_id,
        dst_representative
    from linked_representatives_{{ round }}
    where exists (
        select 1 from open_clusters_{{ round }}
        where open_clusters_{{ round }}.representative = linked_representatives_{{ round }}.src_representative
    )

),

neighbour_minimum_{{ round }} as (

    select
        src_id as node_id,
        min(dst_representative) as representative
    from component_links_{{ round }}
    group by src_id

),

{# Only identifiers of open clusters (each has a link, so a neighbour minimum). #}
representatives_{{ round }} as {{ identity_materialized() }} (

    select
        current_round.node_id,
        least(
            current_round.representative,
            neighbour_minimum_{{ round }}.representative,
            coalesce(jump.representative, current_round.representative)
        ) as representative
    from representatives_{{ round - 1 }} as current_round
    inner join neighbour_minimum_{{ round }}
        on current_round.node_id = neighbour_minimum_{{ round }}.node_id
    left join representatives_{{ round - 1 }} as jump
        on current_round.representative = jump.node_id

),
{% endfor %}
{# Who is not in here anchors a person of its own. #}
assignments as (

    select
        node_id,
        label as anchor_id
    from labeled
    {% for round in range(2, max_rounds + 1) %}
    union all

    select
        node_id,
        representative as anchor_id
    from settled_{{ round }}
    {% endfor %}
    union all

    select
        node_id,
        representative as anchor_id
    from representatives_{{ max_rounds }}

),

anchored as {{ identity_materialized() }} (

    select
        nodes.node_id,
        nodes.identifier_type,
        nodes.identifier_value,
        coalesce(assignments.anchor_id, nodes.node_id) as anchor_id,
        shared_nodes.node_id is not null as is_shared_device
    from nodes
    left join assignments
        on nodes.node_id = assignments.node_id
    left join shared_nodes
        on nodes.node_id = shared_nodes.node_id

),

{# The anchors: one digest per person, not per identifier. #}
persons as {{ identity_materialized() }} (

    select
        anchor_id,
        identifier_type as anchor_type,
        identifier_value as anchor_value,
        {{ dbt.hash("identifier_type || ':' || identifier_value") }} as person_id,
        is_shared_device
    from anchored
    where anchor_id = node_id

),

{# An anchor is its own person; only the other identifiers need a join. #}
final as (

    select
        anchor_type as identifier_type,
        anchor_value as identifier_value,
        person_id,
        anchor_type,
        anchor_value,
        is_shared_device
    from persons

    union all

    select
        anchored.identifier_type,
        anchored.identifier_value,
        persons.person_id,
        persons.anchor_type,
        persons.anchor_value,
        anchored.is_shared_device
    from anchored
    inner join persons
        on anchored.anchor_id = persons.anchor_id
    where anchored.anchor_id <> anchored.node_id

    union all

    select
        identifier_type,
        identifier_value,
        {{ dbt.hash("identifier_type || ':' || identifier_value") }} as person_id,
        identifier_type as anchor_type,
        identifier_value as anchor_value,
        false as is_shared_device
    from solo_nodes

)

select * from final
{%- endmacro %}

{#- Type rank (anchor priority) of an identifier type; NULL for other types. -#}
{% macro identity_type_rank(type_column) -%}
    case {{ type_column }}
            when 'user_id' then 0
            when 'email' then 1
            when 'anonymous_id' then 2
            when 'contact_id' then 3
        end
{%- endmacro %}

{#- The identifier type of a type rank. -#}
{% macro identity_type_name(rank_column) -%}
    case {{ rank_column }}
            when 0 then 'user_id'
            when 1 then 'email'
            when 2 then 'anonymous_id'
            when 3 then 'contact_id'
        end
{%- endmacro %}

{#- `as materialized` for CTEs read several times: without it the unrolled
    rounds would be re-evaluated (exponentially) by planners that inline CTEs. -#}
{% macro identity_materialized() -%}
    {{ return(adapter.dispatch('identity_materialized', 'behavioral_segmentation')()) }}
{%- endmacro %}

{% macro default__identity_materialized() -%}
    materialized
{%- endmacro %}

{#- A text expression compared byte by byte (UTF-8 code point order), as
    Python/Arrow compare strings, whatever the database's default collation. -#}
{% macro identity_bytewise(expression) -%}
    {{ return(adapter.dispatch('identity_bytewise', 'behavioral_segmentation')(expression)) }}
{%- endmacro %}

{% macro default__identity_bytewise(expression) -%}
    {{ expression }}
{%- endmacro %}

{% macro postgres__identity_bytewise(expression) -%}
    {{ expression }} collate "C"
{%- endmacro %}

{#- Session settings for the model built with identity_graph_sql (pre-hooks;
    `set local` lasts until the model's transaction ends). PostgreSQL
    estimates a row or two for every CTE of the unrolled rounds and then picks
    nested-loop (anti) joins over millions of rows: at 200k identifiers the
    query ran > 10 minutes with them, 5 s without. -#}
{% macro identity_graph_pre_hooks() -%}
    {{ return(adapter.dispatch('identity_graph_pre_hooks', 'behavioral_segmentation')()) }}
{%- endmacro %}

{% macro default__identity_graph_pre_hooks() -%}
    {{ return([]) }}
{%- endmacro %}

{% macro postgres__identity_graph_pre_hooks() -%}
    {{ return(['set local enable_nestloop = off']) }}
{%- endmacro %}
