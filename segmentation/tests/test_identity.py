"""Identity resolution: hand-built adversarial graphs with partitions written by
hand, property tests, and parity of the Python and SQL implementations."""

from __future__ import annotations

import datetime as dt
import hashlib
import random

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmentation.identity import IdentityInputError, resolve_identities
from segmentation.identity_sql import resolve_identities_sql

TYPES = {"a": "anonymous_id", "u": "user_id", "e": "email", "c": "contact_id"}
BASE = dt.datetime(2026, 1, 1)


def day(n: int) -> dt.datetime:
    return BASE + dt.timedelta(days=n)


def node(short: str) -> tuple[str, str]:
    """'a:1' -> ('anonymous_id', '1')."""
    kind, value = short.split(":", 1)
    return TYPES[kind], value


def edges(rows) -> pa.Table:
    """rows: (left, right, first_day, last_day) with identifiers as 'a:1'."""
    cols = {k: [] for k in ("left_type", "left_value", "right_type", "right_value")}
    first, last = [], []
    for left, right, f, la in rows:
        (lt, lv), (rt, rv) = node(left), node(right)
        cols["left_type"].append(lt)
        cols["left_value"].append(lv)
        cols["right_type"].append(rt)
        cols["right_value"].append(rv)
        first.append(day(f))
        last.append(day(la))
    return pa.table(
        {
            **{k: pa.array(v, pa.string()) for k, v in cols.items()},
            "first_seen_at": pa.array(first, pa.timestamp("us")),
            "last_seen_at": pa.array(last, pa.timestamp("us")),
            "times_seen": pa.array([1] * len(first), pa.int64()),
        }
    )


def short(identifier_type: str, value: str) -> str:
    return {v: k for k, v in TYPES.items()}[identifier_type] + ":" + value


def partition(result: pa.Table) -> set[frozenset[str]]:
    persons: dict[str, set[str]] = {}
    for row in result.to_pylist():
        persons.setdefault(row["person_id"], set()).add(
            short(row["identifier_type"], row["identifier_value"])
        )
    return {frozenset(p) for p in persons.values()}


def anchors(result: pa.Table) -> dict[str, str]:
    return {
        short(r["identifier_type"], r["identifier_value"]): short(
            r["anchor_type"], r["anchor_value"]
        )
        for r in result.to_pylist()
    }


def rows(result: pa.Table) -> list[tuple]:
    return sorted(tuple(r.values()) for r in result.to_pylist())


def blocks(*groups: str) -> set[frozenset[str]]:
    return {frozenset(g.split()) for g in groups}


# --- hand-built adversarial graphs ------------------------------------------------

CASES = {
    # An anonymous device, an email typed on it, a second device, then a login.
    "chain": (
        [("a:1", "e:x@a.io", 1, 1), ("a:2", "e:x@a.io", 2, 2), ("a:2", "u:1", 3, 3)],
        blocks("a:1 e:x@a.io a:2 u:1"),
    ),
    # A chain longer than a few rounds, ending in a user.
    "long chain": (
        [(f"a:{i}", f"e:{i}@x.io", i, i) for i in range(12)]
        + [(f"a:{i + 1}", f"e:{i}@x.io", i, i) for i in range(11)]
        + [("a:11", "u:9", 30, 30)],
        blocks(
            " ".join([f"a:{i}" for i in range(12)] + [f"e:{i}@x.io" for i in range(12)] + ["u:9"])
        ),
    ),
    "star": (
        [(f"a:{i}", "u:1", i, i) for i in range(6)] + [("e:s@x.io", "u:1", 1, 9)],
        blocks("a:0 a:1 a:2 a:3 a:4 a:5 e:s@x.io u:1"),
    ),
    # A kiosk used by five users (limit 3) merges nobody and is a person of its own;
    # each user keeps its own device.
    "shared kiosk": (
        [("a:kiosk", f"u:{i}", i, i) for i in range(5)] + [("a:home", "u:0", 1, 1)],
        blocks("a:kiosk", "u:0 a:home", "u:1", "u:2", "u:3", "u:4"),
    ),
    # A kiosk where five people typed their emails (limit 3).
    "kiosk of emails": (
        [("a:kiosk", f"e:{i}@x.io", i, i) for i in range(5)] + [("a:p", "e:0@x.io", 1, 1)],
        blocks("a:kiosk", "a:p e:0@x.io", "e:1@x.io", "e:2@x.io", "e:3@x.io", "e:4@x.io"),
    ),
    # Two users on one laptop: the laptop joins the most recently seen user and
    # merges nobody; the older user keeps the email it logged in with directly.
    "two users on one laptop": (
        [
            ("a:laptop", "u:anna", 1, 5),
            ("a:laptop", "u:ben", 6, 9),
            ("a:laptop", "e:anna@x.io", 1, 1),
            ("e:anna@x.io", "u:anna", 1, 1),
            ("a:phone", "u:anna", 2, 2),
        ],
        blocks("a:laptop u:ben", "u:anna e:anna@x.io a:phone"),
    ),
    # Both users last seen at the same moment: the user first in identifier order
    # (earliest first seen) wins.
    "tie on last seen": (
        [("a:laptop", "u:zed", 1, 5), ("a:laptop", "u:amy", 3, 5), ("u:zed", "u:zed", 0, 0)],
        blocks("a:laptop u:zed", "u:amy"),
    ),
    # Full tie (same first and last seen): the smaller value wins.
    "tie on value": (
        [("a:laptop", "u:zed", 1, 5), ("a:laptop", "u:amy", 1, 5)],
        blocks("a:laptop u:amy", "u:zed"),
    ),
    # An email typed in different cases reaches the graph normalized (staging),
    # so the CRM contact and the web form meet on one node.
    "email in different cases": (
        [("a:1", "e:jo@x.io", 1, 1), ("c:k1", "e:jo@x.io", 0, 2)],
        blocks("a:1 e:jo@x.io c:k1"),
    ),
    # A device reused after a long gap by another user joins the recent one; the
    # old user keeps what it was directly linked to.
    "reused after a long gap": (
        [
            ("a:dev", "u:old", -700, -650),
            ("e:old@x.io", "u:old", -700, -650),
            ("a:dev", "e:old@x.io", -700, -700),
            ("a:dev", "u:new", 10, 20),
        ],
        blocks("a:dev u:new", "u:old e:old@x.io"),
    ),
    # A team inbox used by four user ids (limit 3) is shared; its CRM contact is
    # then only linked to it and becomes a person of its own.
    "team inbox": (
        [("e:team@x.io", f"u:{i}", i, i) for i in range(4)] + [("c:k9", "e:team@x.io", 0, 0)],
        blocks("e:team@x.io", "c:k9", "u:0", "u:1", "u:2", "u:3"),
    ),
    # Without user ids, components merge freely; identifiers seen alone stay alone.
    "anonymous only": (
        [
            ("a:1", "a:1", 5, 5),
            ("a:2", "e:b@x.io", 3, 3),
            ("a:3", "e:b@x.io", 4, 4),
            ("a:3", "e:a@x.io", 9, 9),
        ],
        blocks("a:1", "a:2 a:3 e:a@x.io e:b@x.io"),
    ),
    # An email seen with several users joins the most recent one.
    "email with two users": (
        [("e:m@x.io", "u:1", 1, 2), ("e:m@x.io", "u:2", 1, 8), ("c:k", "e:m@x.io", 0, 0)],
        blocks("u:1", "u:2 e:m@x.io c:k"),
    ),
}

EXPECTED_ANCHORS = {
    "anonymous only": {"a:1": "a:1", "a:2": "e:b@x.io", "e:a@x.io": "e:b@x.io"},
    "team inbox": {"c:k9": "c:k9", "e:team@x.io": "e:team@x.io"},
    "chain": {"a:1": "u:1"},
    "shared kiosk": {"a:kiosk": "a:kiosk"},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hand_built_partition(name):
    rows_, expected = CASES[name]
    result = resolve_identities(edges(rows_))
    assert partition(result) == expected
    for identifier, anchor in EXPECTED_ANCHORS.get(name, {}).items():
        assert anchors(result)[identifier] == anchor


def test_person_id_is_md5_of_anchor():
    result = resolve_identities(edges(CASES["chain"][0]))
    for r in result.to_pylist():
        key = f"{r['anchor_type']}:{r['anchor_value']}"
        assert r["person_id"] == hashlib.md5(key.encode()).hexdigest()


def test_shared_flags():
    result = resolve_identities(edges(CASES["shared kiosk"][0]))
    flagged = {
        short(r["identifier_type"], r["identifier_value"])
        for r in result.to_pylist()
        if r["is_shared_device"]
    }
    assert flagged == {"a:kiosk"}


def test_limits_are_configurable():
    graph = edges(CASES["shared kiosk"][0])
    result = resolve_identities(graph, max_user_ids_per_anonymous_id=5)
    # Not shared any more: the kiosk joins its most recent user (u:4), still one user per person.
    assert partition(result) == blocks("a:kiosk u:4", "u:0 a:home", "u:1", "u:2", "u:3")


def test_placeholders_cannot_become_identifiers():
    # Staging turns placeholders into NULL and the edges model drops NULL sides;
    # a NULL reaching the function is an error, never an identifier called 'None'.
    graph = edges([("a:1", "u:1", 1, 1)])
    broken = graph.set_column(1, "left_value", pa.array([None], pa.string()))
    with pytest.raises(IdentityInputError):
        resolve_identities(broken)


def test_empty_input():
    assert resolve_identities(edges([])).num_rows == 0


# --- Python and SQL implementations agree -----------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_sql_matches_python_on_hand_built_graphs(name):
    graph = edges(CASES[name][0])
    # 30 rounds: the long chain is 23 links deep.
    assert rows(resolve_identities_sql(graph, max_rounds=30)) == rows(resolve_identities(graph))


def unconverged_links(graph: pa.Table, result: pa.Table) -> list:
    """The rule of the data test identity_graph_converged, in Python."""
    by_id = {(r["identifier_type"], r["identifier_value"]): r for r in result.to_pylist()}
    bad = []
    for e in graph.to_pylist():
        left = by_id[(e["left_type"], e["left_value"])]
        right = by_id[(e["right_type"], e["right_value"])]
        if left is right or left["is_shared_device"] or right["is_shared_device"]:
            continue
        both_users = left["anchor_type"] == "user_id" == right["anchor_type"]
        if left["person_id"] != right["person_id"] and not both_users:
            bad.append(e)
    return bad


def test_convergence_check_catches_too_few_rounds():
    graph = edges(CASES["long chain"][0])  # 23 links from the user to the far end
    assert unconverged_links(graph, resolve_identities(graph)) == []
    assert unconverged_links(graph, resolve_identities_sql(graph, max_rounds=23)) == []
    for rounds in (22,):
        truncated = resolve_identities_sql(graph, max_rounds=rounds)
        assert rows(truncated) != rows(resolve_identities(graph))
        assert unconverged_links(graph, truncated) != []


# --- properties -------------------------------------------------------------------

IDENTIFIERS = [f"{k}:{i}" for k in "aue" for i in range(6)] + ["c:0", "c:1"]


@st.composite
def graphs(draw, kinds="aue", max_edges=25):
    pool = [i for i in IDENTIFIERS if i[0] in kinds or (i[0] == "c" and "e" in kinds)]
    n = draw(st.integers(1, max_edges))
    result = []
    for _ in range(n):
        left = draw(st.sampled_from(pool))
        right = draw(st.sampled_from(pool))
        if left[0] == right[0] and left != right:
            continue  # rows never carry two identifiers of one type
        if "c" in (left[0], right[0]) and {left[0], right[0]} != {"c", "e"} and left != right:
            continue  # contacts only meet emails
        first = draw(st.integers(0, 5))
        last = first + draw(st.integers(0, 5))
        result.append((left, right, first, last))
    return result or [("a:0", "a:0", 0, 0)]


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def identifiers_of(rows_) -> set[str]:
    return {r[0] for r in rows_} | {r[1] for r in rows_}


@PROPERTY
@given(graphs())
def test_output_is_a_partition_of_all_identifiers(rows_):
    result = resolve_identities(edges(rows_))
    listed = [short(r["identifier_type"], r["identifier_value"]) for r in result.to_pylist()]
    assert sorted(listed) == sorted(identifiers_of(rows_))


@PROPERTY
@given(graphs())
def test_at_most_one_user_id_per_person_anchored_on_it(rows_):
    result = resolve_identities(edges(rows_))
    for block in partition(result):
        users = [i for i in block if i.startswith("u:")]
        assert len(users) <= 1
    for identifier, anchor in anchors(result).items():
        block = next(b for b in partition(result) if identifier in b)
        users = [i for i in block if i.startswith("u:")]
        if users:
            assert anchor == users[0]


@PROPERTY
@given(graphs(), st.randoms(use_true_random=False))
def test_independent_of_edge_order_and_orientation(rows_, rnd):
    shuffled = [(r[1], r[0], r[2], r[3]) if rnd.random() < 0.5 else r for r in rows_]
    rnd.shuffle(shuffled)
    assert rows(resolve_identities(edges(shuffled))) == rows(resolve_identities(edges(rows_)))


def first_seen(rows_) -> dict[str, int]:
    seen: dict[str, int] = {}
    for left, right, first, _ in rows_:
        for i in (left, right):
            seen[i] = min(seen.get(i, first), first)
    return seen


@PROPERTY
@given(graphs())
def test_idempotent(rows_):
    """Resolving the resolved map (each identifier linked to its anchor, first
    seen times kept) gives the same persons and person ids."""
    result = resolve_identities(edges(rows_))
    seen = first_seen(rows_)
    again = [(i, i, seen[i], seen[i]) for i in seen]
    for identifier, anchor in anchors(result).items():
        if identifier != anchor:
            t = max(seen[identifier], seen[anchor])
            again.append((identifier, anchor, t, t))
    result2 = resolve_identities(edges(again))
    ids = {
        short(r["identifier_type"], r["identifier_value"]): r["person_id"]
        for r in result.to_pylist()
    }
    ids2 = {
        short(r["identifier_type"], r["identifier_value"]): r["person_id"]
        for r in result2.to_pylist()
    }
    assert ids == ids2


def coarser_or_equal(fine: set[frozenset], coarse: set[frozenset]) -> bool:
    return all(any(block <= big for big in coarse) for block in fine)


@PROPERTY
@given(
    graphs(kinds="ae"),
    st.sampled_from(IDENTIFIERS[:6] + IDENTIFIERS[12:18]),
    st.sampled_from(IDENTIFIERS[:6] + IDENTIFIERS[12:18]),
    st.integers(0, 9),
)
def test_adding_an_edge_only_merges_without_user_ids(rows_, left, right, t):
    """Merge protection aside (no user ids, limits not reached), a new edge can
    only merge persons, never split or move identifiers."""
    limits = {
        "max_user_ids_per_anonymous_id": 99,
        "max_emails_per_anonymous_id": 99,
        "max_user_ids_per_email": 99,
    }
    before = partition(resolve_identities(edges(rows_), **limits))
    after = partition(resolve_identities(edges([*rows_, (left, right, t, t)]), **limits))
    assert coarser_or_equal(before, after)


@PROPERTY
@given(graphs(), st.sampled_from(IDENTIFIERS), st.sampled_from(IDENTIFIERS), st.integers(0, 9))
def test_adding_an_edge_keeps_user_persons_apart(rows_, left, right, t):
    """With user ids, a new edge never puts two user ids together, and persons
    without a user id only grow (they may be absorbed by a user's person)."""
    limits = {
        "max_user_ids_per_anonymous_id": 99,
        "max_emails_per_anonymous_id": 99,
        "max_user_ids_per_email": 99,
    }
    after = resolve_identities(edges([*rows_, (left, right, t, t)]), **limits)
    for block in partition(after):
        assert sum(i.startswith("u:") for i in block) <= 1
    before = partition(resolve_identities(edges(rows_), **limits))
    userless_before = {b for b in before if not any(i.startswith("u:") for i in b)}
    assert coarser_or_equal(userless_before, partition(after))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(max_edges=30))
def test_sql_matches_python_on_random_graphs(rows_):
    graph = edges(rows_)
    assert rows(resolve_identities_sql(graph, max_rounds=30)) == rows(resolve_identities(graph))


def test_sql_matches_python_on_a_larger_random_graph():
    rnd = random.Random(7)
    pool = (
        [f"a:{i}" for i in range(300)]
        + [f"e:{i}" for i in range(120)]
        + [f"u:{i}" for i in range(60)]
    )
    rows_ = []
    for _ in range(700):
        left, right = rnd.choice(pool), rnd.choice(pool)
        if left[0] != right[0]:
            f = rnd.randrange(100)
            rows_.append((left, right, f, f + rnd.randrange(3)))
    graph = edges(rows_)
    expected = resolve_identities(graph)
    assert rows(resolve_identities_sql(graph, max_rounds=30)) == rows(expected)
    assert unconverged_links(graph, expected) == []
