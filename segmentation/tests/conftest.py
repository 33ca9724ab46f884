"""Shared fixtures: one generated sample per test session, built once per
target. Integration tests read the built warehouse; unit tests need none of it.

The sample is the default one (`segmentation generate` defaults) with a fixed
end date, and the build's `as_of` is that end date, so every figure is
reproducible."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from segmentation import PROJECT_DIR

END_DATE = dt.date(2026, 6, 1)
AS_OF = "2026-06-01 00:00:00"
SEED = 42
EVENTS = 100_000
WORK_DIR = PROJECT_DIR / "target" / "pytest"


@dataclass
class Warehouse:
    target: str
    env: dict[str, str]
    sample_dir: Path

    def connect(self):
        from segmentation.warehouse import connect

        with _environ(self.env):
            if self.target == "duckdb":
                return connect(self.target, read_only=True)
            return connect(self.target)

    def query(self, sql: str, setup: tuple[str, ...] = ()) -> list[tuple]:
        """Rows of `sql`, run after the `setup` statements on the same connection."""
        conn = self.connect()
        try:
            cur = conn.cursor()
            for statement in setup:
                cur.execute(statement)
            cur.execute(sql)
            return cur.fetchall()
        finally:
            conn.close()

    def arrow(self, sql: str, setup: tuple[str, ...] = ()):
        """Result as a pyarrow Table (DuckDB natively; PostgreSQL through pandas)."""
        if self.target == "duckdb":
            conn = self.connect()
            try:
                for statement in setup:
                    conn.execute(statement)
                return conn.sql(sql).to_arrow_table()
            finally:
                conn.close()
        import pandas as pd
        import pyarrow as pa

        conn = self.connect()
        try:
            cur = conn.cursor()
            for statement in setup:
                cur.execute(statement)
            cur.execute(sql)
            cols = [d[0] for d in cur.description]
            return pa.Table.from_pandas(
                pd.DataFrame(cur.fetchall(), columns=cols), preserve_index=False
            )
        finally:
            conn.close()


class _environ:
    def __init__(self, values: dict[str, str]):
        self.values = values
        self.saved: dict[str, str | None] = {}

    def __enter__(self):
        for k, v in self.values.items():
            self.saved[k] = os.environ.get(k)
            os.environ[k] = v

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    from segmentation.generate import generate

    out = WORK_DIR / "sample"
    if out.exists():
        shutil.rmtree(out)
    generate(out=str(out), n_events=EVENTS, seed=SEED, end_date=END_DATE, progress=False)
    return out


def build(target: str, sample: Path, env: dict[str, str]) -> Warehouse:
    from segmentation.dbt import run_dbt
    from segmentation.load import load

    with _environ(env):
        load(str(sample), target=target)
    run_dbt(
        ["build"],
        target=target,
        vars={"as_of": AS_OF},
        env=env,
        target_path=str(WORK_DIR / f"dbt-{target}"),
    )
    return Warehouse(target=target, env=env, sample_dir=sample)


@pytest.fixture(scope="session")
def duckdb_warehouse(sample_dir: Path) -> Warehouse:
    path = WORK_DIR / "warehouse.duckdb"
    path.unlink(missing_ok=True)
    return build("duckdb", sample_dir, {"SEGMENTATION_DUCKDB_PATH": str(path)})


def postgres_available() -> bool:
    if not os.environ.get("PGHOST") or not os.environ.get("PGPORT"):
        return False
    try:
        import psycopg2

        psycopg2.connect(connect_timeout=3).close()
        return True
    except Exception:
        return False


def require_postgres() -> None:
    """Skip the test without a reachable server; fail instead when
    SEGMENTATION_REQUIRE_POSTGRES=1 (make test)."""
    if not postgres_available():
        if os.environ.get("SEGMENTATION_REQUIRE_POSTGRES") == "1":
            pytest.fail(
                "PostgreSQL is required (SEGMENTATION_REQUIRE_POSTGRES=1) but not reachable"
            )
        pytest.skip("no PostgreSQL server (set PGHOST/PGPORT or run `make test`)")


@pytest.fixture(scope="session")
def postgres_warehouse(sample_dir: Path) -> Warehouse:
    require_postgres()
    from segmentation.warehouse import drop_project_schemas

    # A fresh database, as a fresh DuckDB file: incremental models (the
    # membership log) must start from nothing.
    drop_project_schemas()
    return build("postgres", sample_dir, {})


@pytest.fixture(scope="session", params=["duckdb", "postgres"])
def warehouse(request) -> Warehouse:
    """Each integration test that takes this runs once per target."""
    return request.getfixturevalue(f"{request.param}_warehouse")


@pytest.fixture(scope="session")
def truth(sample_dir: Path):
    """The generator's ground truth as pyarrow tables, by name."""
    import pyarrow.parquet as pq

    return {p.stem: pq.read_table(p) for p in (sample_dir / "_truth").glob("*.parquet")}
