"""Identity resolution: identifier pairs in, one person per identifier out.

`resolve_identities(edges)` is the reference implementation; the SQL macro
`identity_graph_sql()` (macros/identity/identity_graph_sql.sql) implements the
same contract with iterative set operations, and tests prove both agree.

Input: one row per identifier pair seen together (`int_identity_edges`):
left_type, left_value, right_type, right_value, first_seen_at, last_seen_at,
times_seen. Identifier types: user_id, email, anonymous_id, contact_id. A pair
whose two sides are the same identifier (a "self pair") only records that the
identifier was seen; the edges model writes one for every identifier, so
identifiers seen alone are resolved too. Pairs are undirected; duplicates and
orientation do not matter. Timestamps must not be NULL.

Rules, in order:

1. Nodes. Every (type, value) on either side is an identifier. Its
   first_seen_at is the minimum first_seen_at over the pairs it is in.
   The *identifier order* is the total order by (type rank, first_seen_at,
   value), type rank user_id 0, email 1, anonymous_id 2, contact_id 3, values
   compared as bytes (UTF-8; collation "C"). Every tie below is broken by it.
2. Shared identifiers. An anonymous_id linked to more than
   `max_user_ids_per_anonymous_id` distinct user_ids, or to more than
   `max_emails_per_anonymous_id` distinct emails, and an email linked to more
   than `max_user_ids_per_email` distinct user_ids, is shared (a kiosk, a
   family laptop, a team inbox): all its pairs are dropped, it merges nobody
   and is a person of its own (anchor: itself, is_shared_device true).
   The remaining pairs between two different identifiers are the *links*.
3. User persons (merge protection). Every user_id is the seed of one person.
   A breadth-first search from all seeds at once over the links assigns every
   identifier reachable from a user_id to the person of a nearest user_id (in
   links). Round r labels the unlabeled identifiers that have a link to an
   identifier labeled in round r-1; each takes the label of the link with the
   greatest last_seen_at, ties to the label (user_id) first in identifier
   order. So a person holds exactly one user_id, and an identifier seen with
   several user ids joins the most recently seen one and merges nobody.
4. Other persons. Identifiers not reachable from any user_id form persons by
   connected components over the links.
5. Anchor and person_id. A person's anchor is its identifier first in
   identifier order: the user_id, else the earliest-seen email, else the
   earliest-seen anonymous_id, else the earliest contact_id (ties by value).
   person_id = md5 lower-case hex of '<anchor_type>:<anchor_value>', so it is
   stable from run to run and computable in any SQL dialect.

Output: one row per identifier: identifier_type, identifier_value, person_id,
anchor_type, anchor_value, is_shared_device.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

IDENTIFIER_TYPES = ("user_id", "email", "anonymous_id", "contact_id")
"""Identifier types, in anchor priority (index = type rank)."""
USER, EMAIL, ANONYMOUS, CONTACT = range(4)

EDGE_COLUMNS = (
    "left_type",
    "left_value",
    "right_type",
    "right_value",
    "first_seen_at",
    "last_seen_at",
    "times_seen",
)

OUTPUT_SCHEMA = pa.schema(
    [
        ("identifier_type", pa.string()),
        ("identifier_value", pa.string()),
        ("person_id", pa.string()),
        ("anchor_type", pa.string()),
        ("anchor_value", pa.string()),
        ("is_shared_device", pa.bool_()),
    ]
)


class IdentityInputError(ValueError):
    pass


def _concat(a: pa.ChunkedArray | pa.Array, b: pa.ChunkedArray | pa.Array) -> pa.Array:
    return pa.concat_arrays(
        [pa.chunked_array(a).combine_chunks(), pa.chunked_array(b).combine_chunks()]
    )


def _microseconds(column: pa.ChunkedArray) -> np.ndarray:
    if column.null_count:
        raise IdentityInputError(f"{column} has NULL timestamps")
    unit = pa.timestamp("us", tz=getattr(column.type, "tz", None))
    return pc.cast(column, unit).cast(pa.int64()).to_numpy()


@lru_cache(maxsize=1)
def _duckdb():
    import duckdb

    return duckdb.connect()


def _md5_hex(keys: pa.Array) -> pa.Array:
    """md5 lower-case hex of each string, vectorized by an in-memory DuckDB
    (its md5() equals PostgreSQL's md5() and hashlib.md5().hexdigest())."""
    anchor_keys = pa.table({"key": keys})  # noqa: F841 (read by DuckDB's replacement scan)
    cursor = _duckdb().cursor()  # one cursor per call: safe across dbt threads
    try:
        return cursor.sql("select md5(key) as digest from anchor_keys").to_arrow_table()["digest"]
    finally:
        cursor.close()


def _best_label(
    node: np.ndarray, last_seen: np.ndarray, label_order: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """For candidate (node, label) rows: per node, the label_order of the row
    with the greatest last_seen, ties to the smallest label_order. Returns the
    nodes and their winning label_order (two scatter-reductions, no sort)."""
    greatest = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(greatest, node, last_seen)
    latest = last_seen == greatest[node]
    smallest = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, node[latest], label_order[latest])
    winners = np.flatnonzero(smallest != np.iinfo(np.int64).max)
    return winners, smallest[winners]


def _over_limit(src: np.ndarray, dst: np.ndarray, mask: np.ndarray, n: int, limit: int):
    """Nodes with more than `limit` distinct neighbours among the arcs in mask.
    Arc counts bound distinct counts from above, so only nodes with more than
    `limit` arcs need the (costlier) distinct count."""
    arcs = np.bincount(src[mask], minlength=n)
    candidates = arcs > limit
    mask = mask & candidates[src]
    pairs = np.unique(src[mask] * n + dst[mask])
    return np.bincount(pairs // n, minlength=n) > limit


def resolve_identities(
    edges: pa.Table,
    max_user_ids_per_anonymous_id: int = 3,
    max_emails_per_anonymous_id: int = 3,
    max_user_ids_per_email: int = 3,
    stats: dict | None = None,
) -> pa.Table:
    """One row per identifier with its person (rules in the module docstring).
    `stats`, when given, receives counters (nodes, links, shared, bfs_rounds)."""
    missing = [c for c in EDGE_COLUMNS[:6] if c not in edges.column_names]
    if missing:
        raise IdentityInputError(f"edges lack columns {missing}")
    n_edges = edges.num_rows
    if n_edges == 0:
        return OUTPUT_SCHEMA.empty_table()

    # Factorize (type, value) keys: one hash pass over both sides.
    types = _concat(edges["left_type"], edges["right_type"])
    values = _concat(edges["left_value"], edges["right_value"])
    if types.null_count or values.null_count:
        raise IdentityInputError("identifier types and values must not be NULL")
    keys = pc.binary_join_element_wise(types, values, ":")
    encoded = keys.dictionary_encode()
    codes = encoded.indices.to_numpy().astype(np.int64)
    n = len(encoded.dictionary)

    # Type rank of each identifier from its key's '<type>:' prefix (no second
    # hash pass over both sides of every edge).
    node_rank = np.full(n, -1, dtype=np.int8)
    for rank, type_name in enumerate(IDENTIFIER_TYPES):
        prefixed = pc.starts_with(encoded.dictionary, type_name + ":")
        node_rank[prefixed.to_numpy(zero_copy_only=False)] = rank
    if (node_rank < 0).any():
        unknown = sorted(set(pc.unique(types).to_pylist()) - set(IDENTIFIER_TYPES))
        raise IdentityInputError(f"unknown identifier types {unknown}")
    any_position = np.empty(n, dtype=np.int64)
    any_position[codes] = np.arange(len(codes), dtype=np.int64)

    first_seen = _microseconds(edges["first_seen_at"])
    last_seen = _microseconds(edges["last_seen_at"])
    node_first_seen = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(node_first_seen, codes, np.concatenate([first_seen, first_seen]))

    # Identifier order: (type rank, first_seen_at, value bytes). One sort on
    # (rank, first_seen) packed into an int64; only identifiers tied on both
    # (same type, same first_seen_at) are then ordered by their keys, which sort
    # like their values within a type ('<type>:' prefix).
    first_seen_key = node_first_seen - node_first_seen.min()
    if first_seen_key.max() >= 1 << 58:  # over 9,000 years apart: ranks instead
        first_seen_key = np.unique(node_first_seen, return_inverse=True)[1].astype(np.int64)
    packed = (node_rank.astype(np.int64) << 58) | first_seen_key
    order = np.argsort(packed)
    sorted_packed = packed[order]
    same = sorted_packed[1:] == sorted_packed[:-1]
    if same.any():
        tied = np.zeros(n, dtype=bool)
        tied[1:] |= same
        tied[:-1] |= same
        tied_positions = np.flatnonzero(tied)
        tied_nodes = order[tied_positions]
        by_key = np.empty(len(tied_nodes), dtype=np.int64)
        by_key[pc.sort_indices(encoded.dictionary.take(pa.array(tied_nodes))).to_numpy()] = (
            np.arange(len(tied_nodes), dtype=np.int64)
        )
        order[tied_positions] = tied_nodes[np.lexsort((by_key, packed[tied_nodes]))]
    node_order = np.empty(n, dtype=np.int64)
    node_order[order] = np.arange(n, dtype=np.int64)

    left, right = codes[:n_edges], codes[n_edges:]
    proper = left != right
    left, right, last_seen = left[proper], right[proper], last_seen[proper]
    # Both directions of every pair: arcs src -> dst.
    src = np.concatenate([left, right])
    dst = np.concatenate([right, left])
    arc_last_seen = np.concatenate([last_seen, last_seen])
    src_rank, dst_rank = node_rank[src], node_rank[dst]

    # Rule 2: shared identifiers.
    shared = np.zeros(n, dtype=bool)
    for node_type, neighbour_type, limit in (
        (ANONYMOUS, USER, max_user_ids_per_anonymous_id),
        (ANONYMOUS, EMAIL, max_emails_per_anonymous_id),
        (EMAIL, USER, max_user_ids_per_email),
    ):
        mask = (src_rank == node_type) & (dst_rank == neighbour_type)
        if mask.any():
            shared |= _over_limit(src, dst, mask, n, limit)
    links = ~(shared[src] | shared[dst])
    src, dst, arc_last_seen = src[links], dst[links], arc_last_seen[links]

    # Rule 3: breadth-first search from every user_id at once.
    label = np.full(n, -1, dtype=np.int64)
    users = np.flatnonzero(node_rank == USER)
    label[users] = users
    frontier = np.zeros(n, dtype=bool)
    frontier[users] = True
    rounds = 0
    while True:
        open_arcs = label[dst] < 0  # arcs into labeled identifiers never matter again
        src, dst, arc_last_seen = src[open_arcs], dst[open_arcs], arc_last_seen[open_arcs]
        from_frontier = frontier[src]
        if not from_frontier.any():
            break
        rounds += 1
        winners, label_order = _best_label(
            dst[from_frontier],
            arc_last_seen[from_frontier],
            node_order[label[src[from_frontier]]],
            n,
        )
        label[winners] = order[label_order]
        frontier[:] = False
        frontier[winners] = True

    # Rule 4: components of what no user_id reaches (the remaining arcs join
    # unlabeled identifiers only; one direction is enough for an undirected graph).
    one_way = src < dst
    graph = coo_matrix(
        (np.ones(int(one_way.sum()), dtype=np.int8), (src[one_way], dst[one_way])), shape=(n, n)
    ).tocsr()
    _, component = connected_components(graph, directed=False)

    # Rule 5: anchor = first identifier in identifier order of each person.
    unlabeled = label < 0
    component_anchor_order = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(component_anchor_order, component[unlabeled], node_order[unlabeled])
    anchor = label.copy()
    anchor[unlabeled] = order[component_anchor_order[component[unlabeled]]]

    is_anchor = np.zeros(n, dtype=bool)
    is_anchor[anchor] = True
    anchors = np.flatnonzero(is_anchor)
    anchor_index = np.full(n, -1, dtype=np.int64)
    anchor_index[anchors] = np.arange(len(anchors), dtype=np.int64)
    digests = _md5_hex(encoded.dictionary.take(pa.array(anchors)))

    type_dictionary = pa.array(IDENTIFIER_TYPES, pa.string())
    node_type = pa.DictionaryArray.from_arrays(pa.array(node_rank), type_dictionary).cast(
        pa.string()
    )
    node_value = values.take(pa.array(any_position))
    anchor_nodes = pa.array(anchor)

    if stats is not None:
        stats.update(
            nodes=n,
            links=int(links.sum()) // 2,
            shared=int(shared.sum()),
            bfs_rounds=rounds,
            persons=len(anchors),
        )
    return pa.table(
        [
            node_type,
            node_value,
            digests.take(pa.array(anchor_index[anchor])),
            node_type.take(anchor_nodes),
            node_value.take(anchor_nodes),
            pa.array(shared),
        ],
        schema=OUTPUT_SCHEMA,
    )
