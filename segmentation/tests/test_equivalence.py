"""The bench's check that incremental builds equal a full refresh compares
tables by checksum (segmentation.equivalence): equal for the same multiset of
rows whatever their order and float noise below the rounding, different for
any changed, missing or repeated row, on DuckDB and PostgreSQL alike."""

from __future__ import annotations

import duckdb
import pytest

from segmentation.equivalence import (
    CHANGE_LOG,
    STORED_INCREMENTAL,
    checksum_sql,
    compared_relations,
    table_checksum,
)
from segmentation.tests.conftest import require_postgres

ROWS = [
    (1, "a", 0.1, "2026-05-01 10:00:00"),
    (2, None, 20.000000000001, "2026-05-02 11:00:00"),
    (2, None, 20.000000000001, "2026-05-02 11:00:00"),  # repeated rows count
    (3, "", None, None),
]
# The same multiset, another order, float noise far below the rounding.
REORDERED = [ROWS[3], ROWS[1], (1, "a", 0.1 + 1e-13, "2026-05-01 10:00:00"), ROWS[2]]
VARIANTS = {
    "a changed float": [(1, "a", 0.1001, "2026-05-01 10:00:00"), *ROWS[1:]],
    "NULL instead of ''": [*ROWS[:3], (3, None, None, None)],
    "'' instead of NULL": [ROWS[0], (2, "", 20.000000000001, "2026-05-02 11:00:00"), *ROWS[2:]],
    # as many rows, but the repeated row once and another one twice
    "another row repeated": [ROWS[0], ROWS[1], ROWS[3], ROWS[3]],
    "a row missing": [ROWS[0], ROWS[1], ROWS[3]],
    "a changed timestamp": [*ROWS[:3], (3, "", None, "2026-05-03 00:00:00")],
}
DDL = (
    "create table {name} (id integer, label varchar, score double precision, "
    "seen_at timestamp, built_at timestamp)"
)


SCHEMA = "equivalence_test"


def _checksums(cursor, dialect: str, placeholder: str) -> dict[str, tuple[int, str]]:
    cursor.execute(f"create schema {SCHEMA}")
    tables = {"original": ROWS, "reordered": REORDERED, **VARIANTS}
    relations = {}
    for i, (label, rows) in enumerate(tables.items()):
        relations[label] = name = f"{SCHEMA}.t{i}"
        cursor.execute(DDL.format(name=name))
        # built_at is a wall-clock column, left out of the comparison: it
        # differs between the original and the reordered copy.
        built_at = "2026-06-02 00:00:00" if label == "reordered" else "2026-06-01 00:00:00"
        for row in rows:
            cursor.execute(
                f"insert into {name} values ({', '.join([placeholder] * 5)})", (*row, built_at)
            )
    return {label: table_checksum(cursor, dialect, r) for label, r in relations.items()}


def _assert_checksums(sums: dict[str, tuple[int, str]]) -> None:
    assert sums["original"] == sums["reordered"]
    assert sums["original"][0] == len(ROWS)
    for label in VARIANTS:
        assert sums[label] != sums["original"], label
    # the checksum itself (not only the row count) tells these apart
    assert sums["another row repeated"][0] == sums["original"][0]
    assert sums["NULL instead of ''"][0] == sums["original"][0]


def test_checksums_on_duckdb():
    conn = duckdb.connect()
    _assert_checksums(_checksums(conn.cursor(), "duckdb", "?"))


def test_checksums_on_postgres():
    require_postgres()
    import psycopg2

    conn = psycopg2.connect()
    try:
        cursor = conn.cursor()
        # In a transaction that is rolled back: nothing is left behind.
        _assert_checksums(_checksums(cursor, "postgres", "%s"))
    finally:
        conn.rollback()
        conn.close()


def test_compared_relations_are_the_stored_tables_and_marts_but_the_change_log():
    conn = duckdb.connect()
    cursor = conn.cursor()
    cursor.execute("create schema marts")
    for name in ("dim_persons", CHANGE_LOG, "fct_events"):
        cursor.execute(f"create table marts.{name} (x integer)")
    assert compared_relations(cursor) == [
        *STORED_INCREMENTAL,
        "marts.dim_persons",
        "marts.fct_events",
    ]


def test_an_unknown_dialect_is_an_error():
    with pytest.raises(ValueError, match="unsupported dialect"):
        checksum_sql("sqlite", "marts.x", [("x", False)])
