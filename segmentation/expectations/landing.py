"""Landing suite: the raw tables as `segmentation load` left them, before `dbt build`.

Every column is text in raw. The suite checks, per table: contract columns present, row
count, NULL/blank share of key columns, share of collector timestamps that are ISO-8601,
share of event names unknown to the taxonomy, share of unknown values in enumerations and
share of duplicate ids. The contract lives in `TABLES`; the thresholds in thresholds.yml."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from segmentation import PROJECT_DIR
from segmentation.contract import RAW_TABLES
from segmentation.expectations import AssetCheck, quote, relation

TAXONOMY_PATH = PROJECT_DIR / "seeds" / "event_taxonomy.csv"

# ISO-8601 date, optionally with a time ('T' or space), fraction and zone. Anchored at both
# ends because PostgreSQL's `~` searches while DuckDB's `~` matches the whole string.
ISO_8601_REGEX = (
    r"^\d{4}-\d{2}-\d{2}"
    r"([T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?)?"
    r"\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?)?$"
)


@dataclass(frozen=True)
class RawTable:
    columns: tuple[str, ...]
    key_columns: tuple[str, ...]
    id_column: str
    timestamp_columns: tuple[str, ...] = ()
    enumerations: tuple[tuple[str, tuple[str, ...]], ...] = ()
    event_column: str | None = None


# Raw landing contract (DESIGN.md section 2).
TABLES: dict[str, RawTable] = {
    "events": RawTable(
        columns=RAW_TABLES["events"],
        key_columns=("message_id", "received_at", "event"),
        id_column="message_id",
        timestamp_columns=("received_at",),
        enumerations=(("source", ("web", "app", "product", "email", "ads")),),
        event_column="event",
    ),
    "identifies": RawTable(
        columns=RAW_TABLES["identifies"],
        key_columns=("message_id", "received_at"),
        id_column="message_id",
        timestamp_columns=("received_at",),
    ),
    "crm_contacts": RawTable(
        columns=RAW_TABLES["crm_contacts"],
        key_columns=("contact_id",),
        id_column="contact_id",
    ),
    "crm_accounts": RawTable(
        columns=RAW_TABLES["crm_accounts"],
        key_columns=("account_id",),
        id_column="account_id",
    ),
    "intent_signals": RawTable(
        columns=RAW_TABLES["intent_signals"],
        key_columns=("signal_id", "domain"),
        id_column="signal_id",
        timestamp_columns=("observed_on",),
    ),
    "consent_events": RawTable(
        columns=RAW_TABLES["consent_events"],
        key_columns=("message_id", "received_at", "purpose", "status"),
        id_column="message_id",
        timestamp_columns=("received_at",),
        enumerations=(
            ("purpose", ("analytics", "personalization", "marketing", "advertising")),
            ("status", ("granted", "denied", "withdrawn")),
            ("source", ("cmp", "preference_center", "gpc")),
        ),
    ),
    "deletion_requests": RawTable(
        columns=RAW_TABLES["deletion_requests"],
        key_columns=("request_id",),
        id_column="request_id",
        timestamp_columns=("requested_at",),
    ),
}


def known_event_names(path: Path = TAXONOMY_PATH) -> list[str]:
    """Canonical names and aliases of the taxonomy seed, lower-cased and trimmed."""
    names: set[str] = set()
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            names.add(row["event_name"].strip().lower())
            names.update(a.strip().lower() for a in (row["aliases"] or "").split("|") if a.strip())
    return sorted(names)


def _select_expression(table: RawTable, column: str) -> str:
    """How the gate sees a raw column: as text; blank key values as NULL; event names and
    enumerations lower-cased and trimmed, the way staging will match them."""
    expr = f"cast({quote(column)} as varchar)"
    if column == table.event_column or column in dict(table.enumerations):
        expr = f"lower(trim({expr}))"
    if column in table.key_columns:
        expr = f"nullif(trim({expr}), '')"
    return f"{expr} as {quote(column)}"


def _share(value: float) -> float:
    return round(1.0 - float(value), 6)


def build_landing_checks(
    thresholds: dict,
    schema: str,
    existing_columns: dict[str, list[str]],
    empty_tables: frozenset[str] = frozenset(),
    taxonomy_path: Path = TAXONOMY_PATH,
) -> list[AssetCheck]:
    """One AssetCheck per raw table present in `existing_columns` (table -> its columns).
    Expectations on contract columns the table lacks are left out: the columns-present
    expectation already fails and names them."""
    import great_expectations.expectations as gxe

    settings = thresholds["landing"]
    checks = []
    for name, table in TABLES.items():
        if name not in existing_columns:
            continue
        t = {**settings, **settings.get("overrides", {}).get(name, {})}
        present = list(existing_columns[name])
        selected = ", ".join(_select_expression(table, c) for c in present)
        check = AssetCheck(
            name=f"landing.{name}",
            table=f"{schema}.{name}",
            query=f"select {selected} from {relation(schema, name)}",
        )
        add = check.expectations.append

        add(
            gxe.ExpectTableColumnsToMatchSet(
                column_set=list(table.columns),
                exact_match=False,
                description="contract columns present",
            )
        )
        min_rows = (t.get("min_rows") or {}).get(name)
        if min_rows:
            add(
                gxe.ExpectTableRowCountToBeBetween(min_value=int(min_rows), description="row count")
            )
        for column in table.key_columns:
            if column in present:
                add(
                    gxe.ExpectColumnValuesToNotBeNull(
                        column=column,
                        mostly=_share(t["max_null_share"]),
                        description=f"null or blank share of {column}",
                    )
                )
        for column in table.timestamp_columns:
            if column in present:
                add(
                    gxe.ExpectColumnValuesToMatchRegex(
                        column=column,
                        regex=ISO_8601_REGEX,
                        mostly=float(t["min_iso_timestamp_share"]),
                        description=f"share of {column} not ISO-8601",
                    )
                )
        if table.event_column and table.event_column in present:
            add(
                gxe.ExpectColumnValuesToBeInSet(
                    column=table.event_column,
                    value_set=known_event_names(taxonomy_path),
                    mostly=_share(t["max_unknown_event_share"]),
                    description="share of event names unknown to the taxonomy",
                )
            )
        for column, values in table.enumerations:
            if column in present:
                add(
                    gxe.ExpectColumnValuesToBeInSet(
                        column=column,
                        value_set=list(values),
                        mostly=_share(t["max_unknown_value_share"]),
                        description=f"share of unknown {column} values",
                    )
                )
        # Distinct share (one count(distinct) per table) rather than expect_..._to_be_unique,
        # whose per-value window took 80 s on 10M events. An empty table has no share.
        if table.id_column in present and name not in empty_tables:
            add(
                gxe.ExpectColumnProportionOfUniqueValuesToBeBetween(
                    column=table.id_column,
                    min_value=_share(t["max_duplicate_share"]),
                    description=f"distinct share of {table.id_column} (1 - duplicate share)",
                )
            )
        checks.append(check)
    return checks
