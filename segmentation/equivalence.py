"""What "an incremental build equals a full refresh" compares, and a cheap way
to compare it at scale.

The equivalence test (segmentation/tests/test_incremental.py) compares the
tables below row by row in Python on a small sample, floats within
FLOAT_RELATIVE_TOLERANCE. `segmentation bench` checks the same tables at 1M and
10M events, where fetching every row is out of the question: it takes a
checksum of each table (row count and an order-independent sum of row
hashes, floats rounded to FLOAT_DECIMALS decimals) after the incremental
builds, rebuilds with `--full-refresh` and takes them again (`table_checksum`).
Equal multisets of rows give equal checksums; a difference in any row changes
the sum but for a 64-bit hash collision."""

from __future__ import annotations

# Floats (scores) may differ in the last bits between engines, or between two
# summation orders: compared with this relative tolerance row by row, and
# rounded to this many decimals (scores are below 10^6) for checksums.
FLOAT_RELATIVE_TOLERANCE = 1e-9
FLOAT_DECIMALS = 6

# Wall-clock stamps of the build itself (when dbt ran), not data: they differ
# between any two builds. Everything derived from data uses `as_of`.
WALL_CLOCK_COLUMNS = frozenset({"built_at", "recorded_at"})

# The membership change log records every build, so several builds leave more
# history than one: it is not compared, nor the columns read from it (when the
# current stay began, the entries and exits of the last build).
CHANGE_LOG = "fct_segment_membership_changes"
HISTORY = {
    "marts.fct_segment_membership": frozenset({"entered_at"}),
    "marts.dim_segments": frozenset({"entries_last_build", "exits_last_build"}),
}

# The incremental models' own tables, compared besides every mart.
STORED_INCREMENTAL = (
    "staging.base_tracking__events_classified",
    "staging.base_tracking__identifies_classified",
    "staging.base_cmp__consent_events_classified",
    "intermediate.int_events_resolved_stored",
)

# information_schema data types of floats: DuckDB (DOUBLE, FLOAT) and PostgreSQL.
_FLOAT_TYPES = {"double", "float", "double precision", "real"}


def relation_names(cursor, schema: str) -> list[str]:
    """Tables and views of `schema`, by name."""
    cursor.execute(
        "select table_name from information_schema.tables "
        f"where table_schema = '{schema}' and table_type in ('BASE TABLE', 'VIEW') order by 1"
    )
    return [name for (name,) in cursor.fetchall()]


def compared_relations(cursor) -> list[str]:
    """The incremental models' tables and every mart but the change log
    (schema.name), in a fixed order."""
    marts = [f"marts.{name}" for name in relation_names(cursor, "marts") if name != CHANGE_LOG]
    return [*STORED_INCREMENTAL, *marts]


def compared_columns(cursor, relation: str) -> list[tuple[str, bool]]:
    """(column, is_float) of `relation` in table order, without the wall-clock
    columns and the columns read from the change log."""
    schema, name = relation.split(".")
    cursor.execute(
        "select column_name, lower(data_type) from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{name}' order by ordinal_position"
    )
    left_out = WALL_CLOCK_COLUMNS | HISTORY.get(relation, frozenset())
    return [(c, t in _FLOAT_TYPES) for c, t in cursor.fetchall() if c not in left_out]


def checksum_sql(dialect: str, relation: str, columns: list[tuple[str, bool]]) -> str:
    """One query returning (row count, checksum as text) of `relation`."""
    if dialect == "duckdb":
        values = [f'round("{c}", {FLOAT_DECIMALS})' if f else f'"{c}"' for c, f in columns]
        row_hash = f"hash({', '.join(values)})"
    elif dialect == "postgres":
        values = [
            f'round(cast("{c}" as numeric), {FLOAT_DECIMALS})' if f else f'"{c}"'
            for c, f in columns
        ]
        # The row's text form tells NULL from '' (row(NULL, '') is '(,"")').
        digest = f"md5(cast(row({', '.join(values)}) as text))"
        row_hash = f"cast(cast('x' || left({digest}, 16) as bit(64)) as bigint)"
    else:
        raise ValueError(f"unsupported dialect {dialect!r}")
    return f"select count(*), cast(coalesce(sum({row_hash}), 0) as varchar) from {relation}"


def table_checksum(cursor, dialect: str, relation: str) -> tuple[int, str]:
    """(row count, checksum) of `relation`: equal for equal multisets of rows."""
    cursor.execute(checksum_sql(dialect, relation, compared_columns(cursor, relation)))
    count, checksum = cursor.fetchone()
    return int(count), str(checksum)
