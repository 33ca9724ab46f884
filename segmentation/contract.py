"""The raw landing contract (DESIGN.md section 2): the tables a landing
directory holds and their columns, in order. The generator writes it, the
loader enforces it, the landing expectations check it: one definition."""

from __future__ import annotations

RAW_TABLES: dict[str, tuple[str, ...]] = {
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
