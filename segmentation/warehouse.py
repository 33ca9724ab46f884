"""Connections to the project's warehouse, configured from the dbt profile.

The profile (profiles.yml, else profiles.example.yml, in DBT_PROFILES_DIR or the
project directory) is rendered with the same `env_var()` semantics as dbt, so
the CLI always talks to the database `dbt build` writes to."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from segmentation import PROJECT_DIR

PROFILE_NAME = "behavioral_segmentation"


class ProfileError(RuntimeError):
    pass


def _env_var(name: str, default: str | None = None) -> str:
    if name in os.environ:
        return os.environ[name]
    if default is None:
        raise ProfileError(f"environment variable {name} is required by the profile and not set")
    return default


def profile_path() -> Path:
    for directory in (os.environ.get("DBT_PROFILES_DIR"), str(PROJECT_DIR)):
        if not directory:
            continue
        for name in ("profiles.yml", "profiles.example.yml"):
            path = Path(directory) / name
            if path.exists():
                return path
    raise ProfileError(f"no profiles.yml or profiles.example.yml in {PROJECT_DIR}")


def _render(value: Any) -> Any:
    if isinstance(value, str) and "{{" in value:
        env = jinja2.Environment(undefined=jinja2.StrictUndefined)
        return env.from_string(value).render(env_var=_env_var)
    if isinstance(value, dict):
        return {k: _render(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v) for v in value]
    return value


@dataclass(frozen=True)
class Target:
    name: str
    type: str
    settings: dict[str, Any]

    @property
    def duckdb_path(self) -> Path:
        path = Path(self.settings["path"])
        return path if path.is_absolute() else Path.cwd() / path


def target_config(target: str | None = None) -> Target:
    profile = yaml.safe_load(profile_path().read_text())[PROFILE_NAME]
    name = target or os.environ.get("DBT_TARGET") or _render(profile["target"])
    outputs = profile["outputs"]
    if name not in outputs:
        raise ProfileError(f"target {name!r} is not in the profile (have: {', '.join(outputs)})")
    settings = _render(outputs[name])
    return Target(name=name, type=settings["type"], settings=settings)


def connect(target: str | None = None, read_only: bool = False):
    """A DB-API connection (duckdb or psycopg2) to the target's database."""
    cfg = target_config(target)
    if cfg.type == "duckdb":
        import duckdb

        cfg.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        # The profile's DuckDB settings (memory_limit, threads) apply to the CLI too.
        config = {k: str(v) for k, v in (cfg.settings.get("settings") or {}).items()}
        return duckdb.connect(str(cfg.duckdb_path), read_only=read_only, config=config)
    if cfg.type == "postgres":
        import psycopg2

        s = cfg.settings
        return psycopg2.connect(
            host=s["host"],
            port=int(s["port"]),
            user=s["user"],
            password=s["password"],
            dbname=s["dbname"],
        )
    raise ProfileError(f"unsupported target type {cfg.type!r}")


def schema_name(layer: str) -> str:
    """Schema of a layer (raw, reference, staging, intermediate, marts): the
    project's generate_schema_name macro uses the layer name as is."""
    return layer


# Every schema the project writes (the PostgreSQL profile's own schema,
# `analytics`, holds the helper functions).
PROJECT_SCHEMAS = ("raw", "reference", "staging", "intermediate", "marts", "analytics")


def drop_project_schemas(target: str = "postgres") -> None:
    """Empty a PostgreSQL warehouse, as a new DuckDB file is: every project
    schema dropped with what it holds (incremental models then start from
    nothing). Connects with the profile's settings (PG* variables)."""
    conn = connect(target)
    try:
        with conn.cursor() as cur:
            for schema in PROJECT_SCHEMAS:
                cur.execute(f"drop schema if exists {schema} cascade")
        conn.commit()
    finally:
        conn.close()
