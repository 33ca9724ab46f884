"""The great-expectations gates judge what they claim to judge: a clean warehouse passes,
and each kind of breakage fails the expectation written for it (not just "something").

DuckDB cases use a throwaway warehouse file; the same cases run on PostgreSQL (in a
throwaway schema) when PGHOST/PGPORT point to a reachable server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import pytest

from segmentation import PROJECT_DIR
from segmentation.expectations.landing import TABLES, known_event_names

TARGETS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


def _postgres_reachable() -> bool:
    if not (os.environ.get("PGHOST") and os.environ.get("PGPORT")):
        return False
    try:
        with socket.create_connection((os.environ["PGHOST"], int(os.environ["PGPORT"])), 2):
            return True
    except OSError:
        return False


class Warehouse:
    """Creates all-text tables in a schema of the target's database from Python rows."""

    def __init__(self, target: str, tmp_path, monkeypatch):
        self.target = target
        self.suffix = "" if target == "duckdb" else "_gxtest_" + uuid.uuid4().hex[:8]
        self.docs_dir = tmp_path / "gx_docs"
        if target == "duckdb":
            monkeypatch.setenv("SEGMENTATION_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
        monkeypatch.setenv("DBT_TARGET", target)
        self._conn = None
        self.schemas: set[str] = set()

    @property
    def conn(self):
        if self._conn is None:
            from segmentation.warehouse import connect

            self._conn = connect(self.target)
        return self._conn

    def close(self) -> None:
        # DuckDB refuses the validator's read-only connection while this process holds a
        # read-write one to the same file.
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def schema(self, layer: str) -> str:
        return layer + self.suffix

    def table(self, layer: str, name: str, rows: list[dict], columns=None) -> None:
        schema = self.schema(layer)
        columns = list(columns or rows[0])
        cur = self.conn.cursor()
        cur.execute(f"create schema if not exists {schema}")
        self.schemas.add(schema)
        cur.execute(f"drop table if exists {schema}.{name}")
        types = {c: self._type(rows, c) for c in columns}
        cur.execute(
            f"create table {schema}.{name} ({', '.join(f'{c} {types[c]}' for c in columns)})"
        )
        values = [tuple(r.get(c) for c in columns) for r in rows]
        if not values:
            pass
        elif self.target == "duckdb":  # executemany inserts row by row: ~5 ms a row
            import pyarrow as pa

            data = pa.table({c: [v[i] for v in values] for i, c in enumerate(columns)})
            self.conn.register("incoming_rows", data)
            self.conn.execute(f"insert into {schema}.{name} select * from incoming_rows")
            self.conn.unregister("incoming_rows")
        else:
            from psycopg2.extras import execute_values

            execute_values(cur, f"insert into {schema}.{name} values %s", values)
        self.conn.commit()

    @staticmethod
    def _type(rows, column) -> str:
        values = [r.get(column) for r in rows if r.get(column) is not None]
        if values and all(isinstance(v, bool) for v in values):
            return "boolean"
        if values and all(isinstance(v, int | float) for v in values):
            return "double precision"
        return "varchar"

    def drop(self) -> None:
        if self.target == "postgres":
            cur = self.conn.cursor()
            for schema in self.schemas:
                cur.execute(f"drop schema if exists {schema} cascade")
            self.conn.commit()
        self.close()

    def validate(self, stage: str, docs: bool = False, **kwargs):
        from segmentation.validate import run_validation

        layer = "raw" if stage == "landing" else "marts"
        self.close()
        return run_validation(
            stage,
            target=self.target,
            docs_dir=self.docs_dir,
            schema=self.schema(layer),
            build_docs=docs,  # 2 s of Jinja per run: only where the test looks at them
            **kwargs,
        )


@pytest.fixture(params=TARGETS)
def warehouse(request, tmp_path, monkeypatch):
    if request.param == "postgres" and not _postgres_reachable():
        pytest.skip("PostgreSQL not configured (PGHOST/PGPORT) or not reachable")
    wh = Warehouse(request.param, tmp_path, monkeypatch)
    yield wh
    wh.drop()


# ---------------------------------------------------------------------------------------
# landing

KNOWN = ["Page_Viewed", " page_view ", "PRICING_VIEWED", "Demo_Requested", "email_open"]
ISO = ["2025-03-01T10:00:00Z", "2025-03-01 10:00:00.123+00:00", "2025-03-01T10:00:00.5+0100"]


def clean_events(n: int = 200) -> list[dict]:
    """Normal noise: 1 % unknown names, 1 % null ids, 1 % duplicate ids, 1 % bad timestamps."""
    rows = []
    for i in range(n):
        rows.append(
            {
                "message_id": f"m{i}",
                "event": KNOWN[i % len(KNOWN)],
                "anonymous_id": f"a{i % 37}",
                "user_id": None,
                "email": None,
                "source": ["web", "app", "product", "email", "ads"][i % 5],
                "occurred_at": ISO[i % 3],
                "received_at": ISO[i % 3],
                "context_ip": None,
                "context_user_agent": "Mozilla/5.0",
                "context_page_url": "https://example.com/",
                "context_referrer": None,
                "context_country": "DE",
                "properties": '{"path": "/"}',
            }
        )
    for i in (3, 103):
        rows[i]["event"] = "totally_new_event"
    for i in (5, 105):
        rows[i]["message_id"] = None
    for i in (7, 107):
        rows[i]["message_id"] = "m0"
    for i in (9, 109):
        rows[i]["received_at"] = "yesterday"
    return rows


def build_landing(wh: Warehouse, events: list[dict] | None = None, skip=()) -> None:
    tables = {
        "events": events if events is not None else clean_events(),
        "identifies": [
            {
                "message_id": f"i{i}",
                "anonymous_id": f"a{i}",
                "user_id": f"u{i}",
                "email": None,
                "traits": "{}",
                "occurred_at": ISO[0],
                "received_at": ISO[1],
                "source": "web",
            }
            for i in range(20)
        ],
        "crm_contacts": [
            {
                "contact_id": f"c{i}",
                "account_id": f"ac{i % 3}",
                "email": f"p{i}@acme.com",
                "job_title": "CTO",
                "lifecycle_status": "lead",
                "plan": "free",
                "created_at": ISO[0],
                "updated_at": ISO[0],
            }
            for i in range(10)
        ],
        "crm_accounts": [
            {
                "account_id": f"ac{i}",
                "name": "Acme",
                "domain": f"acme{i}.com",
                "industry": "software",
                "employee_count": "120",
                "annual_revenue_usd": "1000000",
                "country": "DE",
                "updated_at": ISO[0],
            }
            for i in range(3)
        ],
        "intent_signals": [
            {
                "signal_id": f"s{i}",
                "domain": "acme0.com",
                "topic": "crm",
                "intensity": "40",
                "observed_on": "2025-02-28",
                "provider": "bombora",
            }
            for i in range(5)
        ],
        "consent_events": [
            {
                "message_id": f"k{i}",
                "anonymous_id": f"a{i}",
                "user_id": None,
                "email": None,
                "purpose": ["analytics", "Marketing "][i % 2],
                "status": "granted",
                "occurred_at": ISO[0],
                "received_at": ISO[0],
                "country": "DE",
                "source": "cmp",
            }
            for i in range(10)
        ],
        "deletion_requests": [],
    }
    for name, rows in tables.items():
        if name in skip:
            continue
        wh.table("raw", name, rows, columns=TABLES[name].columns)


def failures_of(report) -> set[tuple[str, str, str | None]]:
    return {(f.table.split(".", 1)[1], f.expectation, f.column) for f in report.failures}


@pytest.mark.parametrize("warehouse", TARGETS, indirect=True)
def test_clean_landing_with_normal_noise_passes(warehouse):
    build_landing(warehouse)
    report = warehouse.validate("landing", docs=True)
    assert report.success, [f.line() for f in report.failures]
    assert report.evaluated > 30
    assert report.docs_index is not None and report.docs_index.exists()


@pytest.mark.parametrize("warehouse", TARGETS, indirect=True)
def test_broken_collector_fails_the_right_expectations(warehouse):
    events = clean_events()
    for i, row in enumerate(events):
        if i % 5 < 2:  # 40 % unknown event names
            row["event"] = f"evt_{i}"
        row["received_at"] = "garbage" if i % 2 else "1700000000"  # epoch strings: not ISO
        if i % 5 == 4:  # 20 % null message ids
            row["message_id"] = None
    build_landing(warehouse, events)
    report = warehouse.validate("landing")
    assert failures_of(report) == {
        ("events", "expect_column_values_to_be_in_set", "event"),
        ("events", "expect_column_values_to_match_regex", "received_at"),
        ("events", "expect_column_values_to_not_be_null", "message_id"),
    }
    by_column = {f.column: f for f in report.failures}
    assert float(by_column["event"].observed.split("%")[0]) >= 40
    assert by_column["event"].threshold == "max 5.00%"
    assert "'evt_" in by_column["event"].details


@pytest.mark.parametrize("warehouse", TARGETS, indirect=True)
def test_duplicates_missing_columns_and_missing_tables_fail(warehouse):
    events = clean_events()
    for row in events[:30]:  # 15 % extra copies
        row["message_id"] = "m199"
    build_landing(warehouse, events, skip=("identifies",))
    warehouse.table(  # a collector that dropped a column
        "raw", "identifies", [{"message_id": "i1", "received_at": ISO[0]}]
    )
    warehouse.table("raw", "deletion_requests", [], columns=("request_id", "requested_at"))
    report = warehouse.validate("landing")
    assert failures_of(report) == {
        ("events", "expect_column_proportion_of_unique_values_to_be_between", "message_id"),
        ("identifies", "expect_table_columns_to_match_set", None),
        ("deletion_requests", "expect_table_columns_to_match_set", None),
    }
    missing = next(f for f in report.failures if f.table.endswith("deletion_requests"))
    assert "email" in missing.observed and "request_id" not in missing.observed


def test_missing_table_fails_and_thresholds_are_tunable(tmp_path, monkeypatch):
    wh = Warehouse("duckdb", tmp_path, monkeypatch)
    build_landing(wh, skip=("intent_signals",))
    loose = tmp_path / "loose.yml"
    # 1 % unknown events (normal noise) fails a zero tolerance
    loose.write_text("landing:\n  max_unknown_event_share: 0.0\n")
    report = wh.validate("landing", thresholds_path=loose)
    wh.drop()
    assert failures_of(report) == {
        ("intent_signals", "table_exists", None),
        ("events", "expect_column_values_to_be_in_set", "event"),
    }


def test_taxonomy_names_are_normalized():
    names = known_event_names()
    assert {"page_viewed", "page_view", "pageviewed", "page viewed", "pricing_viewed"} <= set(names)
    assert all(n == n.strip().lower() for n in names)


# ---------------------------------------------------------------------------------------
# marts


# Valid values for the mart columns a test does not care about.
ACCOUNT_DEFAULTS = {
    "fit_tier": "B",
    "third_party_intent_score": 40.0,
    "first_party_intent_score": 30.0,
    "engagement_index": 60.0,
    "intent_index": 35.0,
    "engagement_score": 12.5,
    "engaged_persons": 2,
}


def account_row(**values) -> dict:
    return {**values, **{k: v for k, v in ACCOUNT_DEFAULTS.items() if k not in values}}


def build_marts(wh: Warehouse, members_per_segment=(400, 300), holdout_every=10) -> None:
    wh.table(
        "marts",
        "dim_persons",
        [
            {
                "person_id": f"p{i}",
                "lifecycle_stage": ["new", "active", "dormant", "churned"][i % 4],
                "usage_tier": [None, "power", "average", "light", "ex_user"][i % 5],
                "total_score": float(i),
                "engagement_score": float(i) / 3,
                "intent_score": float(i) / 3,
                "product_score": float(i) / 3,
                "days_since_last_event": i,
            }
            for i in range(50)
        ],
    )
    wh.table(
        "marts",
        "dim_accounts",
        [
            account_row(
                account_id=f"ac{i}",
                fit_score=10.0 * i,
                intent_score=100.0 - 10 * i,
                blended_score=50.0,
                account_tier="ABCD"[i % 4],
            )
            for i in range(11)
        ],
    )
    segments = [f"seg_{k}" for k in range(len(members_per_segment))]
    wh.table(
        "marts",
        "dim_segments",
        [
            {"segment_id": s, "holdout_percent": 100.0 / holdout_every, "member_count": n}
            for s, n in zip(segments, members_per_segment, strict=True)
        ],
    )
    rows = [
        {
            "membership_id": f"{s}:{i}",
            "segment_id": s,
            "member_type": "person",
            "member_id": f"p{i}",
            "entered_at": "2026-06-01 00:00:00",
            "is_holdout": i % holdout_every == 0,
        }
        for s, n in zip(segments, members_per_segment, strict=True)
        for i in range(n)
    ]
    wh.table(
        "marts",
        "fct_segment_membership",
        rows,
        columns=(
            "membership_id",
            "segment_id",
            "member_type",
            "member_id",
            "entered_at",
            "is_holdout",
        ),
    )


@pytest.mark.parametrize("warehouse", TARGETS, indirect=True)
def test_clean_marts_pass(warehouse):
    build_marts(warehouse)
    report = warehouse.validate("marts")
    assert report.success, [f.line() for f in report.failures]
    assert report.evaluated >= 25


@pytest.mark.parametrize("warehouse", TARGETS, indirect=True)
def test_out_of_range_score_and_bad_tier_fail_their_expectations(warehouse):
    build_marts(warehouse)
    warehouse.table(
        "marts",
        "dim_accounts",
        [
            account_row(
                account_id="ac1",
                fit_score=130.0,
                intent_score=5.0,
                blended_score=50.0,
                account_tier="A",
            ),
            account_row(
                account_id="ac1",
                fit_score=30.0,
                intent_score=5.0,
                blended_score=50.0,
                account_tier="E",
            ),
        ],
    )
    report = warehouse.validate("marts")
    assert failures_of(report) == {
        ("dim_accounts", "expect_column_values_to_be_between", "fit_score"),
        ("dim_accounts", "expect_column_values_to_be_in_set", "account_tier"),
        ("dim_accounts", "unexpected_rows_expectation", "account_id"),
    }
    fit = next(f for f in report.failures if f.column == "fit_score")
    assert "130" in fit.details
    key = next(f for f in report.failures if f.column == "account_id")
    assert key.details == "account_id=ac1, copies=2"


@pytest.mark.parametrize("warehouse", TARGETS, indirect=True)
def test_holdout_share_and_empty_segment_fail(warehouse):
    build_marts(warehouse, holdout_every=10)
    # seg_0 configured at 10 % but half of its members are in the holdout; seg_9 is empty
    warehouse.table(
        "marts",
        "dim_segments",
        [
            {"segment_id": "seg_0", "holdout_percent": 10.0, "member_count": 400},
            {"segment_id": "seg_1", "holdout_percent": 10.0, "member_count": 300},
            {"segment_id": "seg_9", "holdout_percent": 10.0, "member_count": 0},
        ],
    )
    warehouse.table(
        "marts",
        "fct_segment_membership",
        [
            {
                "membership_id": f"{s}:{i}",
                "segment_id": s,
                "member_type": "person",
                "member_id": f"p{i}",
                "entered_at": "2026-06-01 00:00:00",
                "is_holdout": (i % 2 == 0) if s == "seg_0" else (i % 10 == 0),
            }
            for s, n in (("seg_0", 400), ("seg_1", 300))
            for i in range(n)
        ],
    )
    report = warehouse.validate("marts")
    assert {f.description.split(" whose")[0].split(" with")[0] for f in report.failures} == {
        "segments"
    }
    details = {f.description: f.details for f in report.failures}
    holdout = next(v for k, v in details.items() if "holdout" in k)
    empty = next(v for k, v in details.items() if "fewer than" in k)
    assert "segment_id=seg_0" in holdout and "seg_1" not in holdout
    assert "observed_holdout_percent=50" in holdout
    assert "segment_id=seg_9" in empty and "seg_0" not in empty


@pytest.mark.parametrize("warehouse", TARGETS, indirect=True)
def test_segment_size_change_since_previous_passing_validation(warehouse):
    build_marts(warehouse, members_per_segment=(400, 300))
    assert warehouse.validate("marts").success  # baseline stored
    build_marts(warehouse, members_per_segment=(400, 1000))  # seg_1 grew x3.3
    report = warehouse.validate("marts")
    assert not report.success
    [failure] = report.failures
    assert "size changed" in failure.description
    assert "segment_id=seg_1" in failure.details and "seg_0" not in failure.details
    # a failing run keeps the old baseline: re-running does not silence the alarm
    assert not warehouse.validate("marts").success
    # an intended change is accepted explicitly
    assert not warehouse.validate("marts", accept_segment_sizes=True).success
    assert warehouse.validate("marts").success


def test_cli_exit_codes_and_report(tmp_path):
    env = {
        **os.environ,
        "SEGMENTATION_DUCKDB_PATH": str(tmp_path / "cli.duckdb"),
        "DBT_TARGET": "duckdb",
    }
    cmd = [
        sys.executable,
        "-m",
        "segmentation",
        "validate",
        "--stage",
        "landing",
        "--no-docs",
    ]
    missing = subprocess.run(cmd, env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    assert missing.returncode == 2 and "segmentation load" in missing.stderr

    import duckdb

    con = duckdb.connect(str(tmp_path / "cli.duckdb"))
    con.execute("create schema raw")
    cols = ", ".join(f"{c} varchar" for c in TABLES["events"].columns)
    con.execute(f"create table raw.events ({cols})")
    con.execute(
        "insert into raw.events (message_id, event, received_at) values "
        "('m1', 'Page_Viewed', '2025-01-01T00:00:00Z'), ('m2', 'nope', 'x')"
    )
    con.close()
    failed = subprocess.run(cmd, env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    assert failed.returncode == 1, failed.stderr
    assert "FAIL raw.events.event: expect_column_values_to_be_in_set" in failed.stdout
    assert "FAIL raw.identifies: table_exists" in failed.stdout
    assert "validate landing on duckdb: FAILED" in failed.stdout.splitlines()[-1]
