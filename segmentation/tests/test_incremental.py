"""Incremental builds give what a full refresh gives.

The default sample lands in three batches, each followed by a build with the
as_of of its landing: some rows land late (in the next batch, but received
inside the lookback), copies of earlier accepted events land in the last batch
(duplicates across batches), and consent withdrawals land between batches.
Then a `--full-refresh` build over the same raw data must give equal tables,
on DuckDB and on PostgreSQL (its own database on the test server):
the incremental staging table and every mart (floats within the tolerance of
segmentation/equivalence.py). The membership change log and what is read
from it are the exception by design: the log records every build, so three
builds leave more history than one (HISTORY)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from segmentation.dbt import DbtError, run_dbt
from segmentation.equivalence import HISTORY, compared_relations
from segmentation.tests.compare import assert_same_rows, table_rows
from segmentation.tests.conftest import (
    AS_OF,
    WORK_DIR,
    Warehouse,
    _environ,
    require_postgres,
)
from segmentation.tests.test_storage import configured_models, stored_compressions

# Batch k holds the rows received before BATCH_ENDS[k] (and after the previous end).
BATCH_ENDS = ("2026-04-01", "2026-05-10", "9999")
AS_OFS = ("2026-04-01 00:00:00", "2026-05-10 00:00:00", AS_OF)
# Rows received this many days before a batch end land with the next batch
# (inside dbt_project.yml's incremental_lookback_days, 3).
LATE_DAYS = 2
LATE_FROM = ("2026-03-30", "2026-05-08")
# Tables with a received time land in batches; the others (snapshots) land once.
RECEIVED = {
    "events": "received_at",
    "identifies": "received_at",
    "consent_events": "received_at",
    "deletion_requests": "requested_at",
}
N_DUPLICATES = 25
N_WITHDRAWALS = 15
RUN_ONLY = ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]


def _batch_of(received: pa.Array) -> pa.Array:
    """Batch number of each row by its raw received text (ISO-8601 in the
    sample; anything else lands in the first batch)."""
    batch = pa.array([0] * len(received), pa.int8())
    for k, end in enumerate(BATCH_ENDS[:-1]):
        later = pc.fill_null(pc.greater_equal(received, end), False)
        batch = pc.if_else(later, k + 1, batch)
        late = pc.fill_null(
            pc.and_(pc.greater_equal(received, LATE_FROM[k]), pc.less(received, end)), False
        )
        batch = pc.if_else(late, k + 1, batch)
    return batch


def _withdrawals(consent: pa.Table) -> pa.Table:
    """Analytics withdrawals, received in the second batch, by people who granted
    analytics consent before it."""
    granted = consent.filter(
        pc.and_(
            pc.and_(
                pc.equal(consent["purpose"], "analytics"), pc.equal(consent["status"], "granted")
            ),
            pc.and_(
                pc.less(consent["received_at"], LATE_FROM[0]),
                pc.is_valid(consent["anonymous_id"]),
            ),
        )
    ).slice(0, N_WITHDRAWALS)
    assert granted.num_rows == N_WITHDRAWALS
    n = granted.num_rows
    return (
        granted.set_column(
            granted.schema.get_field_index("message_id"),
            "message_id",
            pc.binary_join_element_wise(granted["message_id"], pa.array(["withdrawal"] * n), "-"),
        )
        .set_column(granted.schema.get_field_index("status"), "status", pa.array(["withdrawn"] * n))
        .set_column(
            granted.schema.get_field_index("occurred_at"),
            "occurred_at",
            pa.array(["2026-04-15T12:00:00Z"] * n),
        )
        .set_column(
            granted.schema.get_field_index("received_at"),
            "received_at",
            pa.array(["2026-04-15T12:00:01Z"] * n),
        )
    )


def _late_copies(events: pa.Table) -> pa.Table:
    """Copies of first-batch events (same message_id) received in the last batch."""
    early = events.filter(pc.less(events["received_at"], "2026-02-01")).slice(0, N_DUPLICATES)
    return early.set_column(
        early.schema.get_field_index("received_at"),
        "received_at",
        pa.array(["2026-05-20T00:00:00Z"] * early.num_rows),
    )


def _write_batches(sample: Path, out: Path) -> list[Path]:
    if out.exists():
        shutil.rmtree(out)
    batches = [out / f"batch-{k + 1}" for k in range(len(BATCH_ENDS))]
    for table_dir in sorted(p for p in sample.iterdir() if p.is_dir() and p.name != "_truth"):
        table = pq.read_table(table_dir)
        if table_dir.name == "events":
            table = pa.concat_tables([table, _late_copies(table)])
        if table_dir.name == "consent_events":
            table = pa.concat_tables([table, _withdrawals(table)])
        column = RECEIVED.get(table_dir.name)
        batch = _batch_of(table[column]) if column else pa.array([0] * table.num_rows, pa.int8())
        for k, batch_dir in enumerate(batches):
            part = table.filter(pc.equal(batch, k))
            if part.num_rows or k == 0:  # the first load replaces every raw table
                (batch_dir / table_dir.name).mkdir(parents=True, exist_ok=True)
                pq.write_table(part, batch_dir / table_dir.name / "part-00000.parquet")
    return batches


def _build_in_batches(target: str, env: dict[str, str], sample_dir: Path, work: Path) -> Warehouse:
    """Land the batches one after the other, each followed by an incremental build."""
    from segmentation.load import load

    batches = _write_batches(sample_dir, work / "landing")
    for k, (batch, as_of) in enumerate(zip(batches, AS_OFS, strict=True)):
        with _environ(env):
            load(str(batch), target=target, append=k > 0)
        last = k == len(batches) - 1
        run_dbt(
            ["build"] if last else RUN_ONLY,  # the last incremental build runs every test
            target=target,
            vars={"as_of": as_of},
            env=env,
            target_path=str(work / "dbt"),
        )
    return Warehouse(target=target, env=env, sample_dir=sample_dir)


@pytest.fixture(scope="module")
def incremental_run(sample_dir: Path):
    """The warehouse after the batched incremental builds, the tables read from
    it, and the batches."""
    work = WORK_DIR / "incremental"
    db = work / "warehouse.duckdb"
    db.unlink(missing_ok=True)
    env = {"SEGMENTATION_DUCKDB_PATH": str(db)}
    return _build_in_batches("duckdb", env, sample_dir, work), env, work


# A database of its own on the test server: the session's PostgreSQL
# warehouse (conftest) is read by other tests meanwhile.
POSTGRES_DATABASE = "segmentation_incremental"


@pytest.fixture(scope="module")
def incremental_run_postgres(sample_dir: Path):
    """The same batched builds on PostgreSQL, in a fresh database."""
    import psycopg2

    require_postgres()
    conn = psycopg2.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f"drop database if exists {POSTGRES_DATABASE}")
            cur.execute(f"create database {POSTGRES_DATABASE}")
    except psycopg2.errors.InsufficientPrivilege as exc:
        message = f"the PostgreSQL role may not create the database {POSTGRES_DATABASE}: {exc}"
        if os.environ.get("SEGMENTATION_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        conn.close()
    work = WORK_DIR / "incremental-postgres"
    env = {"PGDATABASE": POSTGRES_DATABASE}
    return _build_in_batches("postgres", env, sample_dir, work), env, work


def _compared_tables(warehouse: Warehouse) -> list[str]:
    conn = warehouse.connect()
    try:
        return compared_relations(conn.cursor())
    finally:
        conn.close()


def _assert_batches_equal_a_full_refresh(
    warehouse: Warehouse, env: dict[str, str], work: Path
) -> None:
    compared = _compared_tables(warehouse)
    assert "marts.fct_events" in compared and "marts.fct_segment_membership" in compared
    incremental = {r: table_rows(warehouse, r, HISTORY.get(r, frozenset())) for r in compared}

    # The batches exercised what they should: late rows, cross-batch duplicates
    # and the withdrawals (events after them are excluded for lack of consent).
    copies, copies_rejected = warehouse.query(
        "select count(*), count(*) filter (where copy.rejection_reason = 'duplicate_message_id')"
        " from staging.base_tracking__events_classified as copy"
        " join staging.base_tracking__events_classified as original"
        "   on copy.message_id = original.message_id"
        "   and original.received_at < timestamp '2026-02-01' and original.failed_rule is null"
        " where copy.received_at = timestamp '2026-05-20 00:00:00'"
    )[0]
    assert copies > 0 and copies_rejected == copies
    late = warehouse.query(
        "select count(*) from staging.base_tracking__events_classified"
        " where received_at >= timestamp '2026-03-30' and received_at < timestamp '2026-04-01'"
    )[0][0]
    assert late > 0
    withdrawn = warehouse.query(
        "select count(*) from intermediate.int_events_resolved e"
        " join staging.stg_cmp__consent_events c on c.message_id like '%-withdrawal'"
        " join intermediate.int_person_identifiers i"
        "   on i.identifier_type = 'anonymous_id' and i.identifier_value = c.anonymous_id"
        " where e.person_id = i.person_id and e.occurred_at > c.occurred_at"
        "   and e.exclusion_reason = 'no_analytics_consent'"
    )[0][0]
    assert withdrawn > 0

    run_dbt(
        [*RUN_ONLY, "--full-refresh"],
        target=warehouse.target,
        vars={"as_of": AS_OF},
        env=env,
        target_path=str(work / "dbt"),
    )
    assert _compared_tables(warehouse) == compared
    for relation in compared:
        full = table_rows(warehouse, relation, HISTORY.get(relation, frozenset()))
        assert_same_rows(relation, incremental[relation], full)


def test_incremental_batches_equal_a_full_refresh(incremental_run):
    _assert_batches_equal_a_full_refresh(*incremental_run)


def test_incremental_batches_equal_a_full_refresh_on_postgres(incremental_run_postgres):
    _assert_batches_equal_a_full_refresh(*incremental_run_postgres)


def test_incremental_inserts_keep_the_uncompressed_columns(incremental_run):
    """The rows that incremental builds add to an incremental table keep its
    uncompressed_columns setting (it is part of the table, not of the full
    refresh's statement): at this scale DuckDB would choose a dictionary for
    some of them (test_storage)."""
    warehouse, _, work = incremental_run
    incremental = {
        name: found
        for name, found in configured_models(work / "dbt").items()
        if name in ("base_tracking__events_classified", "int_events_resolved_stored")
    }
    assert len(incremental) == 2
    for name, (relation, columns) in incremental.items():
        for column in columns:
            assert stored_compressions(warehouse, relation, column) == ["Uncompressed"], (
                name,
                column,
            )


def test_a_landing_older_than_the_lookback_is_reported_not_lost(incremental_run, tmp_path):
    """A row received before the reclassified days is not picked up by an
    incremental build: the count-conservation test on raw.events says so."""
    from segmentation.load import load

    warehouse, env, work = incremental_run
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(env["SEGMENTATION_DUCKDB_PATH"], copy)
    env = {"SEGMENTATION_DUCKDB_PATH": str(copy)}
    landing = tmp_path / "landing" / "events"
    landing.mkdir(parents=True)
    events = pq.read_table(work / "landing" / "batch-1" / "events").slice(0, 1)
    events = events.set_column(
        events.schema.get_field_index("message_id"), "message_id", pa.array(["too-late-1"])
    )
    pq.write_table(events, landing / "part-00000.parquet")
    with _environ(env):
        load(str(landing.parent), target="duckdb", append=True)
    selection = [
        "--select",
        "base_tracking__events_classified+1",
        "source:tracking.events",
        "--indirect-selection",
        "cautious",  # tests whose parents are all selected
    ]
    with pytest.raises(DbtError, match="row_count_conserved"):
        run_dbt(
            ["build", *selection],
            target="duckdb",
            vars={"as_of": AS_OF},
            env=env,
            target_path=str(tmp_path / "dbt"),
        )
    # A full refresh of the classification picks it up.
    run_dbt(
        ["build", *selection, "--full-refresh"],
        target="duckdb",
        vars={"as_of": AS_OF},
        env=env,
        target_path=str(tmp_path / "dbt"),
    )


def test_changed_rules_stop_an_incremental_build(incremental_run, tmp_path):
    """Rows classified under other rules are not mixed with new ones: the build
    stops and says how to rebuild."""
    _, env, work = incremental_run
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(env["SEGMENTATION_DUCKDB_PATH"], copy)
    env = {"SEGMENTATION_DUCKDB_PATH": str(copy)}
    with pytest.raises(DbtError, match="--full-refresh"):
        run_dbt(
            ["run", "--select", "base_tracking__events_classified"],
            target="duckdb",
            vars={"as_of": AS_OF, "placeholder_identifiers": ["", "null", "guest"]},
            env=env,
            target_path=str(tmp_path / "dbt"),
        )


# Raw received_at texts around the first reclassified day of the second build
# (the last stored day 2026-05-10 minus the 3-day lookback: 2026-05-07), for the
# prefilter that skips old rows on their raw text (macro may_be_received_from).
PREFILTER_BATCHES = (
    (
        "2026-05-01T10:00:00.000Z",
        "2026-05-03T10:00:00.000Z",
        "2026-05-08T10:00:00.000Z",
        "2026-05-10T10:00:00.000Z",
        "2026-05-06T23:59:59.999Z",  # canonical, valid, the last instant before
        "2026-05-07T00:00:00.000Z",  # canonical, valid, the first instant on
        "2026-02-30T10:00:00.000Z",  # canonical shape, invalid date: unparseable
        "1900-01-01T12:00:00.000Z",  # valid, but on the unparseable bucket's day
        "2026-05-06T24:00:00.000Z",  # hour 24: midnight, UTC day 2026-05-07
        "2026-05-06T23:30:00-02:00",  # offset: UTC day 2026-05-07
        "2024-02-29T10:00:00.000Z",  # leap day
    ),
    (
        "2026-05-11T10:00:00.000Z",
        "2026-05-06T22:30:00-03:00",  # offset: UTC day 2026-05-07
        "2026-05-06 23:45:00-01:00",  # space form: UTC day 2026-05-07
        "2026-02-30T11:00:00.000Z",
        "2026-04-31T08:00:00.000Z",
        "2026-13-01T00:00:00.000Z",
        "2026-05-06T24:00:00.000Z",
        "2026-05-08T10:00:00.000z",  # lower-case z
        " 2026-05-08T11:00:00.000Z",  # surrounding space
        "2026-05-07T00:00:00.000Z",
    ),
)
# Copies in the second batch (message_id of a first-batch row, received_at):
# of an accepted event received before the reclassified days, and of one
# received on them, which the earlier copy now displaces.
PREFILTER_COPIES = (("p0-1", "2026-05-09T00:00:00.000Z"), ("p0-2", "2026-05-07T05:00:00.000Z"))
# An accepted row in the unparseable bucket's day (received and occurred on
# 1900-01-01), in the first batch: the bucket is reclassified at every build,
# and its own stored row must not count as an earlier copy of it.
PREFILTER_ACCEPTED_1900 = ("p0-1900", "1900-01-01T00:00:01.000Z", "1900-01-01T00:00:00.000Z")


def _insert_raw_events(env: dict[str, str], rows: list[tuple[str, ...]], create: bool) -> None:
    """Insert page views: (message_id, received_at[, occurred_at]) each."""
    from segmentation.contract import RAW_TABLES
    from segmentation.warehouse import connect

    columns = RAW_TABLES["events"]
    with _environ(env):
        conn = connect("duckdb")
    try:
        if create:
            conn.execute("create schema if not exists raw")
            conn.execute(
                "create or replace table raw.events ("
                + ", ".join(f"{c} varchar" for c in columns)
                + ")"
            )
        for message_id, received_at, *occurred_at in rows:
            values = {
                "message_id": message_id,
                "event": "page_view",
                "anonymous_id": f"anon-{message_id}",
                "source": "web",
                "occurred_at": occurred_at[0] if occurred_at else "2026-05-01T00:00:00.000Z",
                "received_at": received_at,
                "context_user_agent": "Mozilla/5.0",
                "properties": '{"path": "/"}',
            }
            conn.execute(
                f"insert into raw.events ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
                [values.get(c) for c in columns],
            )
    finally:
        conn.close()


def test_prefilter_on_raw_received_text_matches_a_full_refresh(tmp_path):
    """Incremental reclassification skips older raw rows by a test on their
    received_at text: rows whose text looks old but is unparseable (an invalid
    date), lands in the unparseable bucket's day, or whose UTC day is later
    than its text's date (offsets, hour 24) are still reclassified, as a full refresh
    classifies them."""
    env = {"SEGMENTATION_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb")}
    warehouse = Warehouse(target="duckdb", env=env, sample_dir=tmp_path)
    selection = ["--select", "+base_tracking__events_classified"]
    relation = "staging.base_tracking__events_classified"
    for k, (texts, as_of) in enumerate(
        zip(PREFILTER_BATCHES, ("2026-05-11 00:00:00", "2026-05-12 00:00:00"), strict=True)
    ):
        rows = [(f"p{k}-{i}", text) for i, text in enumerate(texts)]
        if k == 0:
            rows.append(PREFILTER_ACCEPTED_1900)
        if k == 1:
            rows += list(PREFILTER_COPIES)
        _insert_raw_events(env, rows, create=k == 0)
        run_dbt(
            [*RUN_ONLY, *selection],
            target="duckdb",
            vars={"as_of": as_of},
            env=env,
            target_path=str(tmp_path / "dbt"),
        )
    incremental = table_rows(warehouse, relation)
    offset_days = warehouse.query(
        f"select distinct cast(received_day as varchar) from {relation}"
        " where message_id in ('p0-8', 'p0-9', 'p1-1', 'p1-2', 'p1-6')"
    )
    assert offset_days == [("2026-05-07",)]
    unparseable = warehouse.query(
        f"select message_id from {relation}"
        " where received_day = date '1900-01-01' and rejection_reason = 'unparseable_timestamp'"
    )
    # Invalid dates, in both batches (lower-case z also is, on DuckDB).
    assert {"p0-6", "p1-3", "p1-4", "p1-5"} <= {r[0] for r in unparseable}
    assert len(incremental[1]) == sum(map(len, PREFILTER_BATCHES)) + len(PREFILTER_COPIES) + 1
    accepted_1900 = warehouse.query(
        f"select rejection_reason from {relation} where message_id = '{PREFILTER_ACCEPTED_1900[0]}'"
    )
    assert accepted_1900 == [(None,)]

    run_dbt(
        [*RUN_ONLY, *selection, "--full-refresh"],
        target="duckdb",
        vars={"as_of": "2026-05-12 00:00:00"},
        env=env,
        target_path=str(tmp_path / "dbt"),
    )
    assert_same_rows(relation, incremental, table_rows(warehouse, relation))
