"""DuckDB storage settings of the built tables (macros/duckdb_storage.sql)."""

from __future__ import annotations

import csv
import json
import os

import duckdb

from segmentation import PROJECT_DIR
from segmentation.dbt import run_dbt
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


def taxonomy_values(column: str) -> list[str]:
    """Sorted distinct values of a column of the event_taxonomy seed (the oracle:
    the file, not the model built from it)."""
    with (PROJECT_DIR / "seeds" / "event_taxonomy.csv").open(newline="") as f:
        return sorted({row[column] for row in csv.DictReader(f) if row[column]})


def column_types(warehouse, relation: str) -> dict[str, str]:
    schema, table = relation.split(".")
    return dict(
        warehouse.query(f"""
            select column_name, data_type from duckdb_columns()
            where schema_name = '{schema}' and table_name = '{table}'
        """)
    )


def enum_type(values: list[str]) -> str:
    return "ENUM(" + ", ".join(f"'{value}'" for value in values) + ")"


def test_closed_text_columns_are_stored_as_enums_and_read_as_text(duckdb_warehouse):
    """The 10M-row event tables store their taxonomy columns, the stored
    exclusion reason and the classification version as DuckDB enums of exactly
    the values they can take, sorted (so the enum orders like the text); every
    view on top gives text back."""
    names, categories, score_categories, purposes = (
        taxonomy_values(column)
        for column in ("event_name", "category", "score_category", "consent_purpose")
    )
    classified = column_types(duckdb_warehouse, "staging.base_tracking__events_classified")
    [(version,)] = duckdb_warehouse.query(
        "select distinct cast(classification_version as varchar)"
        " from staging.base_tracking__events_classified"
    )
    assert {
        column: classified[column]
        for column in (
            "event_name",
            "event_category",
            "score_category",
            "consent_purpose",
            "classification_version",
        )
    } == {
        "event_name": enum_type(names),
        "event_category": enum_type(categories),
        "score_category": enum_type(score_categories),
        "consent_purpose": enum_type(purposes),
        "classification_version": enum_type([version]),
    }

    resolved = column_types(duckdb_warehouse, "intermediate.int_events_resolved_stored")
    assert {
        column: resolved[column]
        for column in (
            "event_name",
            "event_category",
            "score_category",
            "consent_purpose",
            "exclusion_reason",
        )
    } == {
        "event_name": enum_type(names),
        "event_category": enum_type(categories),
        "score_category": enum_type(score_categories),
        # Events without a purpose fall under analytics.
        "consent_purpose": enum_type(sorted({*purposes, "analytics"})),
        "exclusion_reason": enum_type(
            sorted(["unresolved", "deleted_person", "no_analytics_consent", "no_purpose_consent"])
        ),
    }

    for relation, columns in {
        "staging.stg_tracking__events": (
            "event_name",
            "event_name_raw",
            "event_category",
            "score_category",
            "consent_purpose",
        ),
        "staging.stg_tracking__events_rejected": ("event", "rejection_reason"),
        "intermediate.int_events_resolved": (
            "event_name",
            "event_category",
            "score_category",
            "consent_purpose",
            "exclusion_reason",
        ),
        "marts.fct_events": ("event_name", "event_category", "score_category", "consent_purpose"),
    }.items():
        types = column_types(duckdb_warehouse, relation)
        read = {column: types[column] for column in columns}
        assert read == dict.fromkeys(columns, "VARCHAR"), relation


def test_stored_enum_lists_sorted_distinct_values_or_keeps_text(tmp_path):
    """stored_enum drops NULLs and repeats and sorts the values; with no values,
    or a value it could not quote safely, the expression stays text."""
    sql = (
        "select"
        " typeof({{ stored_enum(\"'a'\", ['b', 'a', none, 'b']) }}) as listed,"
        " typeof({{ stored_enum(\"'x'\", []) }}) as no_values,"
        " typeof({{ stored_enum(\"'x'\", none) }}) as unknown,"
        " typeof({{ stored_enum(\"'x'\", ['x', \"it's\"]) }}) as quote,"
        " typeof({{ stored_enum_text(stored_enum(\"'a'\", ['a'])) }}) as read_back"
    )
    proc = run_dbt(
        ["compile", "--quiet", "--inline", sql],
        target="duckdb",
        env={"SEGMENTATION_DUCKDB_PATH": str(tmp_path / "empty.duckdb")},
        target_path=str(tmp_path / "target"),
    )
    compiled = proc.stdout.strip()
    assert duckdb.sql(compiled).fetchall() == [
        ("ENUM('a', 'b')", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR")
    ]
