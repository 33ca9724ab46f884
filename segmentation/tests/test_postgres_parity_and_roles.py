"""PostgreSQL as a first-class target: the same sample gives the same marts on
DuckDB and PostgreSQL, and the reader roles see exactly what they should."""

from __future__ import annotations

import json
import os

import pytest

from segmentation.tests.compare import assert_same_rows, relations, table_rows
from segmentation.tests.conftest import WORK_DIR

REVERSE_ETL_MARTS = {"fct_segment_membership", "fct_segment_membership_changes", "dim_segments"}


@pytest.mark.postgres
def test_every_mart_is_identical_on_duckdb_and_postgres(duckdb_warehouse, postgres_warehouse):
    duck_tables = relations(duckdb_warehouse, "marts")
    assert duck_tables == relations(postgres_warehouse, "marts")
    assert "fct_events" in duck_tables
    for table in duck_tables:
        assert_same_rows(
            table,
            table_rows(duckdb_warehouse, f"marts.{table}"),
            table_rows(postgres_warehouse, f"marts.{table}"),
        )


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
    marts = relations(postgres_warehouse, "marts")
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
    marts = set(relations(postgres_warehouse, "marts"))
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
