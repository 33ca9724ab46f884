"""Expectation suites of the data-quality gates, as code.

Each stage (`landing.py`, `marts.py`) turns the warehouse's table contract plus the
thresholds of `thresholds.yml` into `AssetCheck`s: one SQL query (the asset great-expectations
validates, computed in the database) and the expectations that apply to it. Importing this
package does not import great-expectations; the builders do (call `gx_env()` first)."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

THRESHOLDS_PATH = Path(__file__).with_name("thresholds.yml")


def gx_env() -> None:
    """Keep great-expectations from phoning home; must run before it is imported."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    os.environ["DO_NOT_TRACK"] = "1"


def _merge(base: dict, extra: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_thresholds(path: str | Path | None = None) -> dict[str, Any]:
    """The repository's thresholds, with the keys of `path` (if given) merged over them."""
    thresholds = yaml.safe_load(THRESHOLDS_PATH.read_text())
    if path is not None:
        thresholds = _merge(thresholds, yaml.safe_load(Path(path).read_text()) or {})
    return thresholds


@dataclass
class AssetCheck:
    """One validated asset: `query` selects the data (a SELECT, run in the warehouse) and
    `expectations` are judged on it. `table` names the warehouse table the report blames."""

    name: str
    table: str
    query: str
    expectations: list[Any] = field(default_factory=list)
    # Unexpected-rows expectations only return their rows with result_format COMPLETE, which
    # would also return every failing value of column expectations: used for small assets.
    complete_results: bool = False


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def relation(schema: str, table: str) -> str:
    return f"{quote(schema)}.{quote(table)}"
