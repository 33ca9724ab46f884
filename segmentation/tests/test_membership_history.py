"""Membership history across builds, each test on its own warehouse copy:
an unchanged rebuild changes nothing, advancing as_of produces exits and
entries, and a reverse-ETL sync that reads only changes newer than its
watermark always mirrors the activated (non-holdout) membership."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from segmentation.tests.conftest import AS_OF, WORK_DIR, Warehouse, _environ
from segmentation.tests.rawdata import event, write_landing

MEMBERSHIP = (
    "select membership_id, segment_id, member_id, entered_at, is_holdout, member_score "
    "from marts.fct_segment_membership order by membership_id"
)
LATER = "2026-07-01 00:00:00"


def _run(warehouse: Warehouse, tmp: Path, as_of: str) -> None:
    from segmentation.dbt import run_dbt

    run_dbt(
        ["build", "--resource-type", "seed", "--resource-type", "model", "--quiet"],
        target="duckdb",
        vars={"as_of": as_of},
        env=warehouse.env,
        target_path=str(tmp / "dbt-target"),
    )


@pytest.fixture(scope="module")
def sample_copy(duckdb_warehouse, tmp_path_factory) -> tuple[Warehouse, Path]:
    """A private copy of the session's DuckDB warehouse (never the shared one)."""
    tmp = tmp_path_factory.mktemp("history")
    path = tmp / "warehouse.duckdb"
    shutil.copyfile(WORK_DIR / "warehouse.duckdb", path)
    env = {"SEGMENTATION_DUCKDB_PATH": str(path)}
    return Warehouse(target="duckdb", env=env, sample_dir=duckdb_warehouse.sample_dir), tmp


def test_unchanged_rebuild_changes_nothing_then_later_as_of_moves_members(sample_copy):
    warehouse, tmp = sample_copy
    before = warehouse.query(MEMBERSHIP)
    changes_before = warehouse.query("select count(*) from marts.fct_segment_membership_changes")[
        0
    ][0]
    assert before and changes_before == len(before), "first build: one entry per member"

    _run(warehouse, tmp, AS_OF)
    after = warehouse.query(MEMBERSHIP)
    # Scores are float sums whose order a parallel aggregate may change: compare
    # them with a tolerance, and everything else exactly.
    assert [r[:5] for r in after] == [r[:5] for r in before], (
        "same data, same as_of: identical membership (entered_at, holdout included)"
    )
    assert all(math.isclose(a[5], b[5], rel_tol=1e-12) for a, b in zip(after, before, strict=True))
    assert warehouse.query("select count(*) from marts.fct_segment_membership_changes")[0][0] == (
        changes_before
    ), "an unchanged rebuild appends no change"

    _run(warehouse, tmp, LATER)
    new = warehouse.query(
        f"select change_type, reason, count(*) from marts.fct_segment_membership_changes "
        f"where changed_at = cast('{LATER}' as timestamp) group by 1, 2"
    )
    counts = {(t, r): n for t, r, n in new}
    assert counts.get(("exited", "rule_no_longer_met"), 0) > 0, counts
    assert counts.get(("entered", "rule_met"), 0) > 0, counts
    later = {row[0]: row for row in warehouse.query(MEMBERSHIP)}
    earlier = {row[0]: row for row in before}
    stayed = later.keys() & earlier.keys()
    assert stayed, "some members stay"
    assert all(str(later[m][3]) == str(earlier[m][3]) for m in stayed), "entered_at is kept"
    exited = {
        r[0]
        for r in warehouse.query(
            f"select membership_id from marts.fct_segment_membership_changes "
            f"where change_type = 'exited' and changed_at = cast('{LATER}' as timestamp)"
        )
    }
    assert exited == earlier.keys() - later.keys()
    entered_now = {m for m, row in later.items() if str(row[3]).startswith(LATER[:10])}
    assert entered_now == later.keys() - earlier.keys()


# ---------------------------------------------------------------- sync scenario

T1 = "2026-06-01 00:00:00"
T2 = "2026-06-09 00:00:00"


def _contact(contact_id, email, lifecycle="lead"):
    return {
        "contact_id": contact_id,
        "email": email,
        "lifecycle_status": lifecycle,
        "plan": "free",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def _advanced_uses(prefix, user_id, email, days):
    return [
        event(
            f"{prefix}-{i}",
            "Feature_Used",
            f"2026-{d}T12:00:00Z",
            user_id=user_id,
            email=email,
            source="product",
            properties={"feature": "sql_editor", "feature_tier": "advanced"},
        )
        for i, d in enumerate(days)
    ]


def _consent(message_id, user_id, status, occurred_at):
    return {
        "message_id": message_id,
        "user_id": user_id,
        "purpose": "marketing",
        "status": status,
        "occurred_at": occurred_at,
        "received_at": occurred_at,
        "country": "US",
        "source": "preference_center",
    }


class Destination:
    """What a reverse-ETL tool keeps: activated members by membership_id,
    fed only by changes recorded after its watermark."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, str]] = {}
        self.delivered: set[str] = set()
        self.watermark = None

    def sync(self, warehouse: Warehouse) -> list[tuple]:
        where = (
            ""
            if self.watermark is None
            else f"where recorded_at > cast('{self.watermark}' as timestamp)"
        )
        batch = warehouse.query(
            "select change_id, membership_id, segment_id, member_id, change_type, reason, "
            f"is_holdout, recorded_at from marts.fct_segment_membership_changes {where} "
            "order by recorded_at, change_sequence"
        )
        for change_id, membership_id, segment_id, member_id, change_type, _, holdout, at in batch:
            assert change_id not in self.delivered, "nothing is delivered twice"
            self.delivered.add(change_id)
            self.watermark = at
            if holdout:
                continue
            if change_type == "entered":
                assert membership_id not in self.rows
                self.rows[membership_id] = (segment_id, member_id)
            else:
                assert membership_id in self.rows, "an exit follows an entry the sync saw"
                del self.rows[membership_id]
        return [(b[2], b[3], b[4], b[5]) for b in batch]

    def check(self, warehouse: Warehouse) -> None:
        activated = warehouse.query(
            "select membership_id, segment_id, member_id from marts.fct_segment_membership "
            "where not is_holdout"
        )
        assert self.rows == {m: (s, p) for m, s, p in activated}


def test_reverse_etl_sync_over_several_builds(tmp_path):
    from segmentation.load import load

    warehouse = Warehouse(
        target="duckdb",
        env={"SEGMENTATION_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb")},
        sample_dir=tmp_path / "landing",
    )
    alice, bob, carol, dave = (
        ("U_ALICE", "alice@alpha.example"),
        ("U_BOB", "bob@alpha.example"),
        ("U_CAROL", "carol@beta.example"),
        ("U_DAVE", "dave@alpha.example"),
    )
    data = {
        "crm_contacts": [
            _contact("C1", alice[1]),
            _contact("C2", bob[1]),
            _contact("C3", carol[1], "former_customer"),
            _contact("C4", dave[1]),
        ],
        "events": [
            *_advanced_uses("a", *alice, ["05-27", "05-29", "05-31"]),
            *_advanced_uses("b", *bob, ["05-26", "05-28", "05-30", "05-31"]),
            *[
                event(
                    f"c-{i}",
                    "Page_Viewed",
                    f"2026-05-{d}T09:00:00Z",
                    user_id=carol[0],
                    email=carol[1],
                    properties={"path": "/"},
                )
                for i, d in enumerate(["20", "25", "30"])
            ],
        ],
    }
    destination = Destination()

    person: dict[str, str] = {}  # person_id -> user_id, filled as persons appear

    def build(as_of: str) -> list[tuple]:
        write_landing(warehouse.sample_dir, data)
        with _environ(warehouse.env):
            load(str(warehouse.sample_dir), target="duckdb")
        _run(warehouse, tmp_path, as_of)
        changes = destination.sync(warehouse)
        destination.check(warehouse)
        return changes

    def named(changes: list[tuple]) -> set[tuple]:
        return {(s, person.get(m, m), kind, reason) for s, m, kind, reason in changes}

    # 1. Alice and Bob meet the upsell rule, Carol the win-back rule.
    changes = build(T1)
    for user_id, _ in (alice, bob, carol):
        pid = warehouse.query(
            f"select person_id from intermediate.int_person_identifiers "
            f"where identifier_type = 'user_id' and identifier_value = '{user_id}'"
        )[0][0]
        person[pid] = user_id
    changes = named(changes)
    assert {
        ("upsell_candidates", "U_ALICE", "entered", "rule_met"),
        ("upsell_candidates", "U_BOB", "entered", "rule_met"),
        ("win_back", "U_CAROL", "entered", "rule_met"),
    } <= changes

    # 2. Same data again: nothing new.
    assert build(T1) == []

    # 3. Dave starts using advanced features; Bob withdraws marketing consent.
    data["events"] += _advanced_uses("d", *dave, ["05-29", "05-30", "05-31"])
    data["consent_events"] = [_consent("k1", bob[0], "withdrawn", "2026-05-31T18:00:00Z")]
    changes = build(T1)
    dave_id = warehouse.query(
        "select person_id from intermediate.int_person_identifiers "
        "where identifier_type = 'user_id' and identifier_value = 'U_DAVE'"
    )[0][0]
    person[dave_id] = "U_DAVE"
    changes = named(changes)
    assert ("upsell_candidates", "U_DAVE", "entered", "rule_met") in changes
    assert ("upsell_candidates", "U_BOB", "exited", "consent_withdrawn") in changes

    # 4. Alice asks to be deleted: a tombstone exit, and no row names her any more.
    data["deletion_requests"] = [
        {"request_id": "R1", "email": alice[1], "requested_at": "2026-05-31T20:00:00Z"}
    ]
    changes = named(build(T1))
    assert ("upsell_candidates", None, "exited", "deleted_person") in changes
    alice_id = next(p for p, u in person.items() if u == "U_ALICE")
    for relation in ("fct_segment_membership", "fct_segment_membership_changes"):
        assert warehouse.query(
            f"select count(*) from marts.{relation} where member_id = '{alice_id}'"
        ) == [(0,)]

    # 5. A week later Dave's advanced uses are older than 7 days: he exits.
    changes = named(build(T2))
    assert ("upsell_candidates", "U_DAVE", "exited", "rule_no_longer_met") in changes
    assert not any(c[1] == "U_CAROL" for c in changes), "Carol still re-engaged within 30 days"

    # 6. Bob grants marketing again and keeps using advanced features: he re-enters.
    data["consent_events"].append(_consent("k2", bob[0], "granted", "2026-06-08T08:00:00Z"))
    data["events"] += _advanced_uses("b2", *bob, ["06-03", "06-05", "06-08"])
    changes = named(build(T2))
    assert ("upsell_candidates", "U_BOB", "entered", "rule_met") in changes
    bob_id = next(p for p, u in person.items() if u == "U_BOB")
    history = warehouse.query(
        "select change_type, reason from marts.fct_segment_membership_changes "
        f"where member_id = '{bob_id}' and segment_id = 'upsell_candidates' order by change_sequence"
    )
    assert history == [
        ("entered", "rule_met"),
        ("exited", "consent_withdrawn"),
        ("entered", "rule_met"),
    ]
    assert (
        len(destination.delivered)
        == warehouse.query("select count(*) from marts.fct_segment_membership_changes")[0][0] + 1
    ), "every change delivered once (Alice's entry was delivered, then erased)"
