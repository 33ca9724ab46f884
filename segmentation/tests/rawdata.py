"""Hand-written raw tables for tests that need exact control over the data
(scoring oracles on tiny inputs, the multi-build reverse-ETL sync scenario).

Columns follow the landing contract (DESIGN.md section 2); every raw column is
text, as the loader creates it."""

from __future__ import annotations

import json
from typing import Any

RAW_COLUMNS: dict[str, tuple[str, ...]] = {
    "events": (
        "message_id",
        "event",
        "anonymous_id",
        "user_id",
        "email",
        "source",
        "occurred_at",
        "received_at",
        "context_ip",
        "context_user_agent",
        "context_page_url",
        "context_referrer",
        "context_country",
        "properties",
    ),
    "identifies": (
        "message_id",
        "anonymous_id",
        "user_id",
        "email",
        "traits",
        "occurred_at",
        "received_at",
        "source",
    ),
    "crm_contacts": (
        "contact_id",
        "account_id",
        "email",
        "job_title",
        "lifecycle_status",
        "plan",
        "created_at",
        "updated_at",
    ),
    "crm_accounts": (
        "account_id",
        "name",
        "domain",
        "industry",
        "employee_count",
        "annual_revenue_usd",
        "country",
        "updated_at",
    ),
    "intent_signals": ("signal_id", "domain", "topic", "intensity", "observed_on", "provider"),
    "consent_events": (
        "message_id",
        "anonymous_id",
        "user_id",
        "email",
        "purpose",
        "status",
        "occurred_at",
        "received_at",
        "country",
        "source",
    ),
    "deletion_requests": ("request_id", "anonymous_id", "user_id", "email", "requested_at"),
}


def create_raw(conn) -> None:
    """(Re)create the empty raw tables (all text) on a DuckDB connection."""
    conn.execute("create schema if not exists raw")
    for table, columns in RAW_COLUMNS.items():
        cols = ", ".join(f"{c} varchar" for c in columns)
        conn.execute(f"create or replace table raw.{table} ({cols})")


def insert(conn, table: str, rows: list[dict[str, Any]]) -> None:
    """Append rows (dicts keyed by raw column; missing columns are NULL)."""
    columns = RAW_COLUMNS[table]
    for row in rows:
        unknown = set(row) - set(columns)
        if unknown:
            raise KeyError(f"{table}: not raw columns: {sorted(unknown)}")
    values = [
        tuple(
            None if row.get(c) is None else _text(row[c])
            for c in columns
        )
        for row in rows
    ]
    placeholders = ", ".join("?" for _ in columns)
    conn.executemany(f"insert into raw.{table} values ({placeholders})", values)


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
