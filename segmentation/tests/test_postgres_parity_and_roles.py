"""PostgreSQL as a first-class target: the same sample gives the same marts on
DuckDB and PostgreSQL, and the reader roles see exactly what they should."""

from __future__ import annotations

import json
import math
import os
from decimal import Decimal

import pytest

from segmentation.tests.conftest import WORK_DIR

# Floats (scores) may differ in the last bits between engines: compared with
# this relative tolerance. Everything else must be equal.
FLOAT_RELATIVE_TOLERANCE = 1e-9

# Wall-clock stamps of the build itself (when dbt ran), not data: they differ
# between any two builds. Everything derived from data uses `as_of`.
WALL_CLOCK_COLUMNS = {"built_at", "recorded_at"}

REVERSE_ETL_MARTS = {"fct_segment_membership", "fct_segment_membership_changes", "dim_segments"}


def _mart_tables(warehouse) -> list[str]:
    rows = warehouse.query(
        "select table_name from information_schema.tables "
        "where table_schema = 'marts' and table_type = 'BASE TABLE' order by 1"
    )
    return [r[0] for r in rows]


def _normalize(value):
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return value.replace(tzinfo=None)
    return value


def _rows(warehouse, table: str) -> tuple[list[str], list[tuple]]:
    conn = warehouse.connect()
    try:
        cur = conn.cursor()
        cur.execute(f"select * from marts.{table}")
        columns = [d[0] for d in cur.description]
        keep = [i for i, c in enumerate(columns) if c not in WALL_CLOCK_COLUMNS]
        rows = [tuple(_normalize(row[i]) for i in keep) for row in cur.fetchall()]
        return [columns[i] for i in keep], rows
    finally:
        conn.close()


def _close(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=FLOAT_RELATIVE_TOLERANCE, abs_tol=1e-12)
    return a == b


@pytest.mark.postgres
def test_every_mart_is_identical_on_duckdb_and_postgres(duckdb_warehouse, postgres_warehouse):
    duck_tables = _mart_tables(duckdb_warehouse)
    assert duck_tables == _mart_tables(postgres_warehouse)
    assert "fct_events" in duck_tables
    for table in duck_tables:
        duck_cols, duck_rows = _rows(duckdb_warehouse, table)
        pg_cols, pg_rows = _rows(postgres_warehouse, table)
        assert duck_cols == pg_cols, table
        assert len(duck_rows) == len(pg_rows), table
        # Key = every non-float column (floats are compared with a tolerance).
        sample = duck_rows[0] if duck_rows else ()
        float_idx = {i for i, v in enumerate(sample) if isinstance(v, float)}

        def key(row, float_idx=float_idx):
            return tuple((v is None, str(v)) for i, v in enumerate(row) if i not in float_idx)

        duck_sorted = sorted(duck_rows, key=key)
        pg_sorted = sorted(pg_rows, key=key)
        mismatches = [
            (d, p)
            for d, p in zip(duck_sorted, pg_sorted, strict=True)
            if not all(_close(a, b) for a, b in zip(d, p, strict=True))
        ]
        assert not mismatches, f"{table}: {len(mismatches)} rows differ, e.g. {mismatches[:2]}"


def _pii_columns() -> dict[str, set[str]]:
    """Mart columns tagged `meta: {pii: true}`, from the postgres build's manifest."""
    manifest = json.loads((WORK_DIR / "dbt-postgres" / "manifest.json").read_text())
    result: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["schema"] != "marts":
            continue
        for name, column in node["columns"].items():
            meta = {
                **(column.get("meta") or {}),
                **((column.get("config") or {}).get("meta") or {}),
            }
            if meta.get("pii"):
                result.setdefault(node["alias"], set()).add(name)
    return result


def _connect_as(role: str):
    import psycopg2

    password = os.environ.get(f"SEGMENTATION_{role.upper()}_PASSWORD", role)
    return psycopg2.connect(
        user=role, password=password, host=os.environ["PGHOST"], port=os.environ["PGPORT"]
    )


def _can_read(conn, sql: str) -> bool:
    import psycopg2

    cur = conn.cursor()
    try:
        cur.execute(sql)
        cur.fetchall()
        return True
    except psycopg2.errors.InsufficientPrivilege:
        return False
    finally:
        conn.rollback()


FORBIDDEN_LAYERS = [
    "raw.events",
    "raw.deletion_requests",
    "reference.event_taxonomy",
    "staging.stg_tracking__events",
    "staging.stg_crm__contacts",
    "intermediate.int_person_identifiers",
    "intermediate.int_consent_intervals",
]


@pytest.mark.postgres
def test_bi_role_reads_marts_but_not_pii_columns_or_other_layers(postgres_warehouse):
    marts = _mart_tables(postgres_warehouse)
    pii = _pii_columns()
    assert pii, "some mart columns must be tagged pii (the identity map's values at least)"
    conn = _connect_as("bi_reader")
    try:
        for table in marts:
            columns = [
                r[0]
                for r in postgres_warehouse.query(
                    "select column_name from information_schema.columns "
                    f"where table_schema = 'marts' and table_name = '{table}'"
                )
            ]
            hidden = pii.get(table, set())
            visible = [c for c in columns if c not in hidden]
            assert _can_read(conn, f"select {', '.join(visible)} from marts.{table} limit 5"), table
            for column in hidden:
                assert not _can_read(conn, f"select {column} from marts.{table} limit 1"), (
                    table,
                    column,
                )
            if hidden:
                assert not _can_read(conn, f"select * from marts.{table} limit 1"), table
        for relation in FORBIDDEN_LAYERS:
            assert not _can_read(conn, f"select * from {relation} limit 1"), relation
    finally:
        conn.close()


@pytest.mark.postgres
def test_reverse_etl_role_reads_only_the_membership_marts(postgres_warehouse):
    marts = set(_mart_tables(postgres_warehouse))
    assert marts >= REVERSE_ETL_MARTS
    conn = _connect_as("reverse_etl")
    try:
        for table in sorted(marts):
            allowed = _can_read(conn, f"select * from marts.{table} limit 5")
            assert allowed == (table in REVERSE_ETL_MARTS), table
        for relation in FORBIDDEN_LAYERS:
            assert not _can_read(conn, f"select * from {relation} limit 1"), relation
    finally:
        conn.close()
