"""The SQL implementation of identity resolution (dbt macro `identity_graph_sql`)
outside a dbt build: rendered once through dbt, then run on DuckDB over any
edges table, so tests and benchmarks compare it with `resolve_identities`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import pyarrow as pa

from segmentation import PROJECT_DIR

EDGES_RELATION = "identity_edges_input"


@lru_cache(maxsize=8)
def _render(vars_json: str, target: str = "duckdb") -> str:
    from dbt.cli.main import dbtRunner

    with tempfile.TemporaryDirectory() as tmp:
        profiles = Path(tmp)
        shutil.copy(PROJECT_DIR / "profiles.example.yml", profiles / "profiles.yml")
        env = {
            "DBT_TARGET": target,
            "SEGMENTATION_DUCKDB_PATH": ":memory:",
            "DO_NOT_TRACK": "1",
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            result = dbtRunner().invoke(
                [
                    "compile",
                    "--log-level",
                    "none",
                    "--project-dir",
                    str(PROJECT_DIR),
                    "--profiles-dir",
                    str(profiles),
                    "--target-path",
                    str(profiles / "target"),
                    "--log-path",
                    str(profiles / "logs"),
                    "--no-partial-parse",
                    "--no-populate-cache",
                    "--vars",
                    vars_json,
                    "--inline",
                    f"{{{{ identity_graph_sql('{EDGES_RELATION}') }}}}",
                ]
            )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    if not result.success:
        raise RuntimeError(f"could not render identity_graph_sql: {result.exception}")
    return result.result.results[0].node.compiled_code


def identity_sql(
    max_user_ids_per_anonymous_id: int = 3,
    max_emails_per_anonymous_id: int = 3,
    max_user_ids_per_email: int = 3,
    max_rounds: int = 20,
    target: str = "duckdb",
) -> str:
    """The SQL rendered for a dbt target (duckdb, or postgres: then the PG*
    environment variables must name a reachable server); it reads the edges
    from a relation named `identity_edges_input`."""
    return _render(
        json.dumps(
            {
                "identity_max_user_ids_per_anonymous_id": max_user_ids_per_anonymous_id,
                "identity_max_emails_per_anonymous_id": max_emails_per_anonymous_id,
                "identity_max_user_ids_per_email": max_user_ids_per_email,
                "identity_max_rounds": max_rounds,
            },
            sort_keys=True,
        ),
        target,
    )


def resolve_identities_sql(edges: pa.Table, con=None, **params) -> pa.Table:
    """Run the SQL implementation on DuckDB (an in-memory database unless `con`
    is given) over an Arrow edges table."""
    import duckdb

    sql = identity_sql(**params)
    own = con is None
    con = duckdb.connect() if own else con
    try:
        con.register(EDGES_RELATION, edges)
        try:
            return con.sql(sql).to_arrow_table()
        finally:
            con.unregister(EDGES_RELATION)
    finally:
        if own:
            con.close()
