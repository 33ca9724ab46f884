"""Comparing whole tables between two builds (two targets, or an incremental
build and a full refresh): the same rows, floats within a relative tolerance."""

from __future__ import annotations

import math
from decimal import Decimal

from segmentation.equivalence import (
    FLOAT_RELATIVE_TOLERANCE,
    WALL_CLOCK_COLUMNS,
    relation_names,
)


def relations(warehouse, schema: str) -> list[str]:
    """Tables and views of `schema`, by name."""
    conn = warehouse.connect()
    try:
        return relation_names(conn.cursor(), schema)
    finally:
        conn.close()


def _normalize(value):
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return value.replace(tzinfo=None)
    return value


def table_rows(
    warehouse, relation: str, exclude: frozenset[str] = frozenset()
) -> tuple[list[str], list[tuple]]:
    """Column names and rows of `relation` (schema.table), wall-clock columns and
    `exclude` left out."""
    conn = warehouse.connect()
    try:
        cur = conn.cursor()
        cur.execute(f"select * from {relation}")
        columns = [d[0] for d in cur.description]
        keep = [i for i, c in enumerate(columns) if c not in WALL_CLOCK_COLUMNS | exclude]
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


def assert_same_rows(name: str, left: tuple[list, list], right: tuple[list, list]) -> None:
    """Same columns and the same multiset of rows; floats within the tolerance."""
    (left_cols, left_rows), (right_cols, right_rows) = left, right
    assert left_cols == right_cols, name
    assert len(left_rows) == len(right_rows), (name, len(left_rows), len(right_rows))
    # Key = every non-float column (floats are compared with a tolerance).
    sample = left_rows[0] if left_rows else ()
    float_idx = {i for i, v in enumerate(sample) if isinstance(v, float)}

    def key(row):
        return tuple((v is None, str(v)) for i, v in enumerate(row) if i not in float_idx)

    pairs = zip(sorted(left_rows, key=key), sorted(right_rows, key=key), strict=True)
    mismatches = [
        (a, b) for a, b in pairs if not all(_close(x, y) for x, y in zip(a, b, strict=True))
    ]
    assert not mismatches, f"{name}: {len(mismatches)} rows differ, e.g. {mismatches[:2]}"
