"""`segmentation validate`: run the great-expectations gates of a stage against the warehouse.

The suites are code (segmentation/expectations/), the context is ephemeral (no
great_expectations/ folder), the data stays in the warehouse: a SQL datasource on the dbt
target's database evaluates every expectation in SQL. Data Docs go to gx_docs/ (git-ignored),
the segment sizes of the last passing marts validation to gx_docs/state/.

DuckDB needs two adjustments of great-expectations 1.24 (see `_make_gx_speak_duckdb`)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from segmentation import PROJECT_DIR
from segmentation.expectations import AssetCheck, gx_env, load_thresholds
from segmentation.warehouse import Target, schema_name, target_config

STAGES = ("landing", "marts")


class ValidationError(RuntimeError):
    """The validation could not run (no warehouse, no tables): not a data-quality verdict."""


@dataclass
class Failure:
    table: str
    expectation: str
    column: str | None
    description: str
    observed: str
    threshold: str
    details: str = ""

    def line(self) -> str:
        target = f"{self.table}.{self.column}" if self.column else self.table
        text = f"FAIL {target}: {self.expectation}"
        if self.description:
            text += f" ({self.description})"
        text += f": observed {self.observed}"
        if self.threshold:
            text += f" vs {self.threshold}"
        if self.details:
            text += f"; {self.details}"
        return text


@dataclass
class ValidationReport:
    stage: str
    target: str
    evaluated: int = 0
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    docs_index: Path | None = None

    @property
    def success(self) -> bool:
        return not self.failures

    def failed(self, table: str, expectation: str, column: str | None = None) -> bool:
        """Whether `expectation` (e.g. expect_column_values_to_be_in_set) failed on
        `table` (e.g. raw.events), optionally on `column`."""
        return any(
            f.table == table
            and f.expectation == expectation
            and (column is None or f.column == column)
            for f in self.failures
        )


def default_docs_dir() -> Path:
    return Path(os.environ.get("SEGMENTATION_HOME") or PROJECT_DIR) / "gx_docs"


def connection_string(cfg: Target) -> str:
    if cfg.type == "duckdb":
        if not cfg.duckdb_path.exists():
            raise ValidationError(
                f"no DuckDB warehouse at {cfg.duckdb_path}: run `segmentation load` first"
            )
        return f"duckdb:///{cfg.duckdb_path.resolve()}"
    if cfg.type == "postgres":
        from sqlalchemy.engine import URL

        s = cfg.settings
        url = URL.create(
            "postgresql+psycopg2",
            username=s["user"],
            password=s["password"],
            host=s["host"],
            port=int(s["port"]),
            database=s["dbname"],
        )
        return url.render_as_string(hide_password=False)
    raise ValidationError(f"unsupported target type {cfg.type!r}")


def warehouse_key(cfg: Target) -> str:
    """Identity of the validated warehouse, so two warehouses never share a size baseline."""
    if cfg.type == "duckdb":
        return f"duckdb:{cfg.duckdb_path.resolve()}"
    s = cfg.settings
    return f"postgres:{s['host']}:{s['port']}/{s['dbname']}"


_patched = False


def _make_gx_speak_duckdb() -> None:
    """GX reads metric results after its connection context closed; SQLAlchemy's
    reset-on-return then ROLLBACKs and DuckDB drops the pending result ("list index out of
    range" in every expectation). GX keeps one persistent connection for the dialects in
    `_PERSISTED_CONNECTION_DIALECTS`: add duckdb there. The entries are GXSqlDialect members
    compared with the engine's dialect name (a str) and read through `.value`, hence the
    str subclass."""
    global _patched
    if _patched:
        return
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_module

    class _DuckDBDialectName(str):
        @property
        def value(self) -> str:
            return str(self)

    names = engine_module._PERSISTED_CONNECTION_DIALECTS
    if "duckdb" not in [getattr(n, "value", n) for n in names]:
        engine_module._PERSISTED_CONNECTION_DIALECTS = (*names, _DuckDBDialectName("duckdb"))
    _patched = True


def _duckdb_regex_support(execution_engine) -> None:
    """GX only knows how to write regex conditions for the dialects it knows; duckdb_engine
    subclasses SQLAlchemy's PostgreSQL dialect and DuckDB understands PostgreSQL's `~`/`!~`
    (as a full match: patterns are anchored at both ends so both databases agree)."""
    if execution_engine.dialect_name == "duckdb":
        import sqlalchemy.dialects.postgresql as postgresql_dialect

        execution_engine.dialect_module = postgresql_dialect


def _close(datasource, execution_engine) -> None:
    """Release the warehouse: the persisted connection survives `close()`, and DuckDB refuses
    other connections of this process to the file (with another configuration) until then."""
    connection = getattr(execution_engine, "_connection", None)
    if connection is not None:
        connection.close()
        execution_engine._connection = None
    execution_engine.close()
    datasource.get_engine().dispose()


def _columns(execution_engine, schema: str) -> dict[str, list[str]]:
    import sqlalchemy as sa

    rows = execution_engine.execute_query(
        sa.text(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = :schema order by table_name, ordinal_position"
        ).bindparams(schema=schema)
    ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


def _empty_tables(execution_engine, schema: str, tables: list[str]) -> frozenset[str]:
    import sqlalchemy as sa

    from segmentation.expectations import relation

    return frozenset(
        table
        for table in tables
        if not execution_engine.execute_query(
            sa.text(f"select exists (select 1 from {relation(schema, table)})")
        ).scalar()
    )


def _fmt_number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _failure(check: AssetCheck, result) -> Failure:
    config = result.expectation_config
    kwargs = config.kwargs
    kind = config.type
    res = result.result or {}
    column = kwargs.get("column") or (config.meta or {}).get("column")
    description = config.description or ""
    observed, threshold, details = "?", "", ""
    info = result.exception_info or {}
    if "raised_exception" not in info:
        # query-based expectations report one exception_info per metric
        info = next((v for v in info.values() if isinstance(v, dict)), {})
    if info.get("raised_exception"):
        message = str(info.get("exception_message", "")).strip().splitlines()
        observed = "an error: " + (message[0] if message else "unknown")
    elif "unexpected_percent" in res:
        mostly = kwargs.get("mostly", 1.0)
        share = res.get("unexpected_percent_nonmissing", res["unexpected_percent"])
        if kind == "expect_column_values_to_not_be_null":
            share = res["unexpected_percent"]
        observed = f"{share:.2f}% of {res.get('element_count')} rows"
        threshold = f"max {(1 - mostly) * 100:.2f}%"
        counts = res.get("partial_unexpected_counts") or []
        if counts and kind != "expect_column_values_to_not_be_null":
            details = "e.g. " + ", ".join(f"{c['value']!r} x{c['count']}" for c in counts[:5])
    elif kind == "expect_table_columns_to_match_set":
        missing = (res.get("details") or {}).get("mismatched", {}).get("missing", [])
        observed = f"missing {', '.join(missing) or '?'}"
        threshold = "all contract columns"
    elif kind == "unexpected_rows_expectation":
        observed = f"{res.get('observed_value')} rows"
        threshold = "0 rows"
        rows = (res.get("details") or {}).get("unexpected_rows") or []
        details = "; ".join(
            ", ".join(f"{k}={_fmt_number(v)}" for k, v in row.items()) for row in rows[:10]
        )
    else:
        observed = _fmt_number(res.get("observed_value"))
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        threshold = " and ".join(
            part
            for part in (
                f"min {_fmt_number(low)}" if low is not None else "",
                f"max {_fmt_number(high)}" if high is not None else "",
            )
            if part
        )
    return Failure(check.table, kind, column, description, observed, threshold, details)


def _load_sizes(state_path: Path, key: str) -> dict[str, int]:
    if not state_path.exists():
        return {}
    return json.loads(state_path.read_text()).get(key, {}).get("sizes", {})


def _save_sizes(state_path: Path, key: str, sizes: dict[str, int]) -> None:
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    state[key] = {"validated_at": dt.datetime.now(dt.UTC).isoformat(), "sizes": sizes}
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")


def _add_datasource(context, cfg: Target, url: str):
    name = f"warehouse_{cfg.name}"
    if cfg.type == "postgres":
        return context.data_sources.add_postgres(name=name, connection_string=url)
    # Read-only: the gate never writes, and read-only processes can share the file. DuckDB
    # refuses it (as it refuses any duckdb_engine connection, whose configuration differs)
    # while the same process holds another connection to the file: close yours first.
    return context.data_sources.add_sql(
        name=name, connection_string=url, kwargs={"connect_args": {"read_only": True}}
    )


def _ephemeral_context(docs: Path):
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    # Nothing but Data Docs on disk, and without the throwaway docs site GX would otherwise
    # create (and build, doubling the time) in a fresh /tmp directory on every run.
    return gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            data_docs_sites={
                "local": {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                }
            },
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        ),
    )


def _run_checkpoint(context, name: str, runs: list, result_format: dict) -> list:
    """Validate (AssetCheck, batch definition, expectations) triples in one checkpoint;
    returns (AssetCheck, ExpectationValidationResult) pairs."""
    import great_expectations as gx

    definitions, check_by_suite = [], {}
    for check, batch_definition, expectations in runs:
        suite_name = f"{check.name}.{name}"
        suite = context.suites.add(gx.ExpectationSuite(name=suite_name, expectations=expectations))
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(name=suite_name, data=batch_definition, suite=suite)
            )
        )
        check_by_suite[suite_name] = check
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(name=name, validation_definitions=definitions, result_format=result_format)
    )
    return [
        (check_by_suite[validation.suite_name], result)
        for validation in checkpoint.run().run_results.values()
        for result in validation.results
    ]


def _run_checks(context, datasource, checks: list[AssetCheck], report: ValidationReport) -> None:
    """Two passes. The gate runs every expectation with result_format BOOLEAN_ONLY: per table,
    great-expectations then needs one aggregate query for all column expectations. Only the
    failing expectations run again with SUMMARY, which adds two scans per expectation (the
    unexpected values and their index), to report observed values and examples: on 10M
    events that is the difference between ~20 s and minutes. Small assets that need their
    rows (AssetCheck.complete_results) run once with COMPLETE."""
    batches = {
        check.name: datasource.add_query_asset(
            name=check.name, query=check.query
        ).add_batch_definition_whole_table("all rows")
        for check in checks
    }
    gate = [(c, batches[c.name], c.expectations) for c in checks if not c.complete_results]
    complete = [(c, batches[c.name], c.expectations) for c in checks if c.complete_results]
    results = []
    if complete:
        results += _run_checkpoint(context, "rows", complete, {"result_format": "COMPLETE"})
    failing: dict[str, list] = {}
    if gate:
        for check, result in _run_checkpoint(
            context, "gate", gate, {"result_format": "BOOLEAN_ONLY"}
        ):
            if result.success:
                results.append((check, result))
            else:
                failing.setdefault(check.name, []).append(result.expectation_config)
    if failing:
        by_name = {c.name: c for c in checks}
        details = [
            (by_name[name], batches[name], [copy.copy(c.to_domain_obj()) for c in configs])
            for name, configs in failing.items()
        ]
        results += _run_checkpoint(
            context,
            "failures",
            details,
            {"result_format": "SUMMARY", "partial_unexpected_count": 20},
        )
    for check, result in results:
        report.evaluated += 1
        if not result.success:
            report.failures.append(_failure(check, result))


def run_validation(
    stage: str,
    target: str | None = None,
    docs_dir: str | Path | None = None,
    thresholds_path: str | Path | None = None,
    schema: str | None = None,
    accept_segment_sizes: bool = False,
    build_docs: bool = True,
) -> ValidationReport:
    """Validate `stage` (landing: schema raw; marts: schema marts) of the target's warehouse.
    `schema` overrides the stage's schema (tests use throwaway schemas). The segment sizes
    become the next baseline when the marts pass (or `accept_segment_sizes`): a failed run
    must not silence the alarm by becoming the baseline itself."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r} (have: {', '.join(STAGES)})")
    started = time.perf_counter()
    cfg = target_config(target)
    url = connection_string(cfg)
    thresholds = load_thresholds(thresholds_path)
    schema = schema or schema_name("raw" if stage == "landing" else "marts")
    docs = Path(docs_dir) if docs_dir else default_docs_dir()
    state_path = docs / "state" / "segment_sizes.json"
    state_key = f"{warehouse_key(cfg)}#{schema}"
    report = ValidationReport(stage=stage, target=cfg.name)

    gx_env()
    _make_gx_speak_duckdb()
    context = _ephemeral_context(docs)
    datasource = _add_datasource(context, cfg, url)
    execution_engine = datasource.get_execution_engine()
    try:
        _duckdb_regex_support(execution_engine)
        existing = _columns(execution_engine, schema)
        if stage == "landing":
            from segmentation.expectations.landing import TABLES, build_landing_checks

            expected_tables = list(TABLES)
            empty = _empty_tables(execution_engine, schema, [t for t in TABLES if t in existing])
            checks = build_landing_checks(thresholds, schema, existing, empty)
        else:
            from segmentation.expectations.marts import MARTS, build_marts_checks

            expected_tables = list(MARTS)
            previous = _load_sizes(state_path, state_key)
            checks = build_marts_checks(thresholds, schema, existing, previous)
        for table in expected_tables:
            if table not in existing:
                report.evaluated += 1
                missing = Failure(f"{schema}.{table}", "table_exists", None, "", "no table", "")
                report.failures.append(missing)

        _run_checks(context, datasource, checks, report)

        if build_docs:
            # Once for all validations: an UpdateDataDocsAction in the checkpoint rebuilds
            # the whole site after every validation (8 s of Jinja for the 7 landing tables).
            context.build_data_docs()
            report.docs_index = docs / "index.html"

        if stage == "marts" and (report.success or accept_segment_sizes):
            from segmentation.expectations.marts import MEMBERSHIP_TABLE, segment_sizes_query

            if MEMBERSHIP_TABLE in existing:
                import sqlalchemy as sa

                rows = execution_engine.execute_query(sa.text(segment_sizes_query(schema)))
                _save_sizes(state_path, state_key, {str(s): int(n) for s, n in rows.fetchall()})
    finally:
        _close(datasource, execution_engine)
    report.seconds = time.perf_counter() - started
    return report


def print_report(report: ValidationReport, out: TextIO = sys.stdout) -> None:
    for failure in report.failures:
        print(failure.line(), file=out)
    verdict = "passed" if report.success else "FAILED"
    print(
        f"validate {report.stage} on {report.target}: {verdict}: "
        f"{report.evaluated - len(report.failures)}/{report.evaluated} expectations met, "
        f"{len(report.failures)} failing "
        f"({report.seconds:.1f} s); Data Docs: {report.docs_index or 'not written'}",
        file=out,
    )
