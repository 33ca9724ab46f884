"""Hand-written raw data for tests that need exact control over it (the
multi-build reverse-ETL sync scenario), written as a landing directory so the
real loader puts it into any target.

Columns follow the loader's landing contract (DESIGN.md section 2)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

from segmentation.load import CONTRACT

RAW_COLUMNS = CONTRACT


def write_landing(landing_dir: str | Path, tables: dict[str, list[dict[str, Any]]]) -> Path:
    """Write a landing directory (one CSV per contract table; tables not given
    are written empty) that `segmentation load` accepts on every target. An
    empty CSV field is NULL."""
    out = Path(landing_dir)
    for table, columns in RAW_COLUMNS.items():
        rows = tables.get(table, [])
        for row in rows:
            unknown = set(row) - set(columns)
            if unknown:
                raise KeyError(f"{table}: not raw columns: {sorted(unknown)}")
        folder = out / table
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        with open(folder / "part-0.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(["" if row.get(c) is None else _text(row[c]) for c in columns])
    return out


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def event(
    message_id: str,
    name: str,
    occurred_at: str,
    *,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    email: str | None = None,
    properties: dict | None = None,
    source: str = "web",
) -> dict[str, Any]:
    """A well-formed raw event (received when it occurred)."""
    return {
        "message_id": message_id,
        "event": name,
        "anonymous_id": anonymous_id,
        "user_id": user_id,
        "email": email,
        "source": source,
        "occurred_at": occurred_at,
        "received_at": occurred_at,
        "context_user_agent": "Mozilla/5.0",
        "context_country": "US",
        "properties": properties or {},
    }
