"""DuckDB storage settings of the built tables (macros/duckdb_storage.sql)."""

from __future__ import annotations

import json
import os

import duckdb

from segmentation.tests.conftest import WORK_DIR

# The wide event tables the setting exists for: losing it from either would
# cost a 10M-event full refresh ~2 s without any test noticing otherwise.
MUST_LIST = {
    "base_tracking__events_classified": {"message_id", "anonymous_id"},
    "int_events_resolved_stored": {"event_id", "person_id"},
}


def configured_models(target_path=WORK_DIR / "dbt-duckdb") -> dict[str, tuple[str, list[str]]]:
    """name -> (schema.table, uncompressed_columns) of every model that sets it."""
    manifest = json.loads((target_path / "manifest.json").read_text())
    found = {}
    for node in manifest["nodes"].values():
        columns = node["resource_type"] == "model" and node["config"].get("uncompressed_columns")
        if columns:
            found[node["name"]] = (f"{node['schema']}.{node['alias']}", list(columns))
    return found


def stored_compressions(warehouse, relation: str, column: str) -> list[str]:
    """The compressions of a stored column's data segments (DuckDB)."""
    [(found,)] = warehouse.query(f"""
        select list(distinct compression order by compression)
        from pragma_storage_info('{relation}')
        where column_name = '{column}' and segment_type <> 'VALIDITY'
    """)
    return found


def test_uncompressed_columns_are_stored_uncompressed(duckdb_warehouse, tmp_path):
    """Every column a model lists in uncompressed_columns is written without
    compression, and the setting is what decides it: the same values copied
    into a plain table (DuckDB choosing) are compressed in some segment."""
    configured = configured_models()
    for name, columns in MUST_LIST.items():
        assert name in configured and columns <= set(configured[name][1]), name

    chosen_by_duckdb = set()
    scratch = duckdb.connect(str(tmp_path / "scratch.duckdb"))
    # As the profile writes (profiles.example.yml): FSST off unless set.
    disabled = os.environ.get("SEGMENTATION_DUCKDB_DISABLED_COMPRESSION", "fsst")
    scratch.execute(f"set disabled_compression_methods = '{disabled}'")
    warehouse_path = duckdb_warehouse.env["SEGMENTATION_DUCKDB_PATH"]
    scratch.execute(f"attach '{warehouse_path}' as warehouse (read_only)")
    for name, (relation, columns) in configured.items():
        for column in columns:
            stored = stored_compressions(duckdb_warehouse, relation, column)
            assert stored == ["Uncompressed"], (name, column, stored)
            scratch.execute(
                f"create or replace table copied as select {column} from warehouse.{relation}"
            )
            scratch.execute("checkpoint")
            [(copied,)] = scratch.execute("""
                select list(distinct compression order by compression)
                from pragma_storage_info('copied') where segment_type <> 'VALIDITY'
            """).fetchall()
            if copied != ["Uncompressed"]:
                chosen_by_duckdb.add((name, column))
    scratch.close()
    assert chosen_by_duckdb, "DuckDB would store every listed column uncompressed anyway"
