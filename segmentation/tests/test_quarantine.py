"""Quarantine against the generator's ground truth: every injected defect is
rejected with the right reason, and no clean row is rejected. The rejected
rows are the raw rows exactly as sent (the classifiers store a raw text only
where the parsed value does not give it back), on the sample and, for events,
on hand-made adversarial raw values."""

from __future__ import annotations

import json

import pytest

from segmentation.contract import RAW_TABLES
from segmentation.tests.conftest import AS_OF, WORK_DIR

# A classified table stores a raw text only where its parsed value does not
# give it back (macros/raw_text.sql); these rebuild the two raw texts that
# identify a row, as the rejected views do (timestamp_text per target).
RAW_MESSAGE_ID = "coalesce(raw_message_id, message_id)"
TIMESTAMP_TEXT = {
    "duckdb": (
        "case when date_trunc('second', {0}) = {0} then strftime({0}, '%Y-%m-%dT%H:%M:%SZ')"
        " else strftime({0}, '%Y-%m-%dT%H:%M:%S.%gZ') end"
    ),
    "postgres": (
        "case when date_trunc('second', {0}) = {0} then to_char({0}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        ' else to_char({0}, \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\') end'
    ),
}


# The events' stored reason does not depend on as_of (the table is
# incremental); the retention rule (occurred more than retention_days = 395
# before as_of) comes right after the timestamp rules, as the views apply it.
EVENTS_REASON_AS_OF = f"""case
            when rejection_reason in
                ('missing_message_id', 'unparseable_timestamp', 'future_timestamp')
                then rejection_reason
            when occurred_at < timestamp '{AS_OF}' - interval '395 days' then 'outside_retention'
            else rejection_reason
        end"""

BASES = {
    "events": ("staging.base_tracking__events_classified", EVENTS_REASON_AS_OF),
    "identifies": ("staging.base_tracking__identifies_classified", "rejection_reason"),
    "consent_events": ("staging.base_cmp__consent_events_classified", "rejection_reason"),
}
REJECTED = {
    "events": "staging.stg_tracking__events_rejected",
    "identifies": "staging.stg_tracking__identifies_rejected",
    "consent_events": "staging.stg_cmp__consent_events_rejected",
}


def _classified(table: str, target: str) -> str:
    """Each classified row's raw message_id and received_at, and its reason as of AS_OF."""
    relation, reason = BASES[table]
    received_at = TIMESTAMP_TEXT[target].format("received_at")
    return f"""(
    select
        {RAW_MESSAGE_ID} as raw_message_id,
        coalesce(raw_received_at, {received_at}) as raw_received_at,
        {reason} as rejection_reason
    from {relation}
)"""


@pytest.mark.parametrize("table", sorted(BASES))
def test_quarantine_matches_ground_truth_exactly(warehouse, truth, table):
    import pyarrow.compute as pc

    labels = truth["row_labels"].filter(pc.equal(truth["row_labels"]["table_name"], table))
    got = warehouse.arrow(
        f"select raw_message_id as message_id, raw_received_at as received_at, "
        f"rejection_reason from {_classified(table, warehouse.target)} as classified"
    )
    assert got.num_rows == labels.num_rows, "every raw row is classified exactly once"

    expected = {
        (m, r): e
        for m, r, e in zip(
            labels["message_id"].to_pylist(),
            labels["received_at"].to_pylist(),
            labels["expected_reason"].to_pylist(),
            strict=True,
        )
    }
    actual = {
        (m, r): e
        for m, r, e in zip(
            got["message_id"].to_pylist(),
            got["received_at"].to_pylist(),
            got["rejection_reason"].to_pylist(),
            strict=True,
        )
    }
    assert actual.keys() == expected.keys()
    wrong = [(k, expected[k], actual[k]) for k in expected if expected[k] != actual[k]]
    # Report by (expected, actual) so a failure says which rule is off.
    summary: dict[tuple, int] = {}
    for _, e, a in wrong:
        summary[(e, a)] = summary.get((e, a), 0) + 1
    assert not wrong, f"{len(wrong)} rows misclassified, (expected, actual): count = {summary}"
    injected = sum(1 for e in expected.values() if e is not None)
    assert injected > 0, "the sample must contain defects for this test to mean anything"


def test_conservation_per_raw_table(warehouse):
    """raw = accepted + rejected for each quarantining table (also a dbt test)."""
    pairs = {
        "raw.events": ("staging.stg_tracking__events", "staging.stg_tracking__events_rejected"),
        "raw.identifies": (
            "staging.stg_tracking__identifies",
            "staging.stg_tracking__identifies_rejected",
        ),
        "raw.consent_events": (
            "staging.stg_cmp__consent_events",
            "staging.stg_cmp__consent_events_rejected",
        ),
    }
    for raw, (accepted, rejected) in pairs.items():
        (n_raw,), (n_acc,), (n_rej,) = (
            warehouse.query(f"select count(*) from {t}")[0] for t in (raw, accepted, rejected)
        )
        assert n_raw == n_acc + n_rej, raw
        assert n_rej > 0 and n_acc > 0, raw


EVENT_COLUMNS = RAW_TABLES["events"]


def _raw_rows(warehouse, relation: str, columns=EVENT_COLUMNS, setup=()) -> list[tuple]:
    table = warehouse.arrow(
        "select " + ", ".join(f'"{c}"' for c in columns) + f" from {relation}", setup=setup
    )
    return list(zip(*(table[c].to_pylist() for c in columns), strict=True))


@pytest.mark.parametrize("table", sorted(REJECTED))
def test_rejected_rows_are_the_raw_rows_exactly(warehouse, truth, table):
    """A rejected view shows every quarantined row exactly as it landed: each
    row equals, column for column, the raw row with the same raw message_id
    and received_at (the row's identity in the ground truth), and the rejected
    rows are the ones the ground truth expects."""
    import pyarrow.compute as pc

    columns = RAW_TABLES[table]
    key = (columns.index("message_id"), columns.index("received_at"))
    raw = {}
    for row in _raw_rows(warehouse, f"raw.{table}", columns):
        assert (row[key[0]], row[key[1]]) not in raw, "raw rows are identified by the key"
        raw[row[key[0]], row[key[1]]] = row
    rejected = _raw_rows(warehouse, REJECTED[table], columns)
    differ = [(row, raw.get((row[key[0]], row[key[1]]))) for row in rejected]
    differ = [(shown, sent) for shown, sent in differ if shown != sent]
    assert not differ, f"{len(differ)} rejected rows differ from raw, (shown, sent): {differ[:3]}"

    labels = truth["row_labels"].filter(pc.equal(truth["row_labels"]["table_name"], table))
    expected = {
        (m, r)
        for m, r, e in zip(
            labels["message_id"].to_pylist(),
            labels["received_at"].to_pylist(),
            labels["expected_reason"].to_pylist(),
            strict=True,
        )
        if e is not None
    }
    assert len(rejected) == len(expected) > 0
    assert {(row[key[0]], row[key[1]]) for row in rejected} == expected


# Raw values a collector may send, per column: padded, re-cased, empty, NULL,
# placeholders, and timestamps in every shape (offsets, other separators,
# fractions that do and do not come back from the parsed value, unparseable).
# Row i takes value i modulo the list's length; "{i}" makes message ids unique.
ADVERSARIAL = {
    "message_id": [" m-{i} ", "", "   ", None, "M-{i}", "m-{i}", "m-{i}\t"],
    "event": [
        " pricing_viewed ",
        "PAGE_VIEW",
        "Page_Viewed",
        "page viewed",
        "no_such_event",
        None,
        "",
        "PageViewed",
        "Pricing_Viewed",
    ],
    "anonymous_id": [" a-1 ", "NULL", "undefined", "0000-0000", "", None, "A-1", "a-1"],
    "user_id": ["  u-1", "None", None, "", "u-1", "U-1 "],
    "email": [
        "Ana@Example.COM",
        "  ana@example.com ",
        "not-an-email",
        "",
        None,
        "ana@example.com",
        "Émile@Exämple.com",
    ],
    "source": ["WEB", " web ", "Web", "", None, "web", "app"],
    "occurred_at": [
        "2026-05-01T10:00:00Z",
        "2026-05-01T10:00:00.000Z",
        "2026-05-01T10:00:00.5Z",
        "2026-05-01T10:00:00.123456Z",
        "2026-05-01T10:00:00.123Z",
        "2026-05-01 10:00:00+00:00",
        "2026-05-01T12:00:00+02:00",
        "2026-05-01T10:00:00z",
        " 2026-05-01T10:00:00Z",
        "2026-05-01T10:00:00",
        "2026-05-01",
        "2026-05-01T10:00Z",
        "not a timestamp",
        "",
        None,
        "2026-02-30T10:00:00Z",
        "2026-05-01T10:00:00.120Z",
    ],
    "received_at": [
        "2026-05-01T10:05:00.250Z",
        "2026-05-01T10:05:00.000Z",
        "2026-05-01T10:05:00Z",
        "2026-05-01T12:05:00+02:00",
        "2026-05-01T10:05:00.250000Z",
        "",
        None,
        "garbage",
        "2026-05-01 10:05:00.25",
        " 2026-05-01T10:05:00.250Z ",
        "2026-05-01T10:05:00.999Z",
    ],
    "context_ip": [" 10.0.0.1 ", "10.0.0.1", "", None],
    "context_country": ["us", " US ", "US", "", None, "Us"],
    "context_referrer": [None, "", "https://www.google.com/"],
}
N_ADVERSARIAL = 60
USER_AGENTS = {"clean": "Mozilla/5.0", "bot": "Googlebot/2.1"}


def _adversarial_rows() -> list[dict]:
    rows = []
    for i in range(N_ADVERSARIAL):
        for agent, user_agent in USER_AGENTS.items():
            row = {column: values[i % len(values)] for column, values in ADVERSARIAL.items()}
            if row["message_id"] is not None:
                row["message_id"] = row["message_id"].replace("{i}", str(i))
            row["context_user_agent"] = user_agent
            # The row's identity: a column every model passes through unchanged.
            row["context_page_url"] = f"https://example.com/adversarial/{agent}/{i}"
            row["properties"] = '{"plan": "pro", "path": "/"}'
            rows.append(row)
    return rows


def _literal(value: str | None) -> str:
    return (
        "cast(null as varchar)"
        if value is None
        else "cast('" + value.replace("'", "''") + "' as varchar)"
    )


def _compiled_over(warehouse, model: str, raw_rows: list[dict]) -> tuple[tuple[str, ...], str]:
    """The SQL the build ran for `model` (a view over the events classifier),
    with the classifier's compiled full-refresh SQL inlined and raw.events
    replaced by `raw_rows` (a temporary table, created by the setup statement
    returned with the query): the models as built, run over other raw rows,
    without writing to the warehouse."""
    manifest = json.loads((WORK_DIR / f"dbt-{warehouse.target}" / "manifest.json").read_text())
    nodes, sources = manifest["nodes"], manifest["sources"]
    base = nodes["model.behavioral_segmentation.base_tracking__events_classified"]
    view = nodes[f"model.behavioral_segmentation.{model}"]
    raw_relation = sources["source.behavioral_segmentation.tracking.events"]["relation_name"]
    values = ",\n".join(
        "(" + ", ".join(_literal(row[c]) for c in EVENT_COLUMNS) + ")" for row in raw_rows
    )
    setup = (
        "create temporary table adversarial_events as select * from (values\n"
        f"{values}\n) as adversarial({', '.join(EVENT_COLUMNS)})",
    )
    base_sql = base["compiled_code"]
    assert "accepted_earlier" not in base_sql, "the fixture build is a full refresh"
    assert raw_relation in base_sql and view["compiled_code"].count(base["relation_name"]) == 1
    base_sql = base_sql.replace(raw_relation, "adversarial_events")
    return setup, view["compiled_code"].replace(
        base["relation_name"], f"(\n{base_sql}\n) as adversarial_base"
    )


def test_rejected_events_keep_adversarial_raw_text_exactly(warehouse):
    """Raw values that do not come back from their parsed value (padded,
    re-cased, empty, NULL, placeholders, offsets, other timestamp shapes and
    fractions) are shown exactly as sent by the rejected view, and the accepted
    view keeps the event name as sent: the built models' SQL run over such rows
    and compared with them by row identity."""
    rows = _adversarial_rows()
    sent = {row["context_page_url"]: tuple(row[c] for c in EVENT_COLUMNS) for row in rows}
    url = EVENT_COLUMNS.index("context_page_url")

    setup, rejected_sql = _compiled_over(warehouse, "stg_tracking__events_rejected", rows)
    shown = _raw_rows(warehouse, f"({rejected_sql}) as rejected", setup=setup)
    differ = [(row, sent.get(row[url])) for row in shown if sent.get(row[url]) != row]
    assert not differ, f"{len(differ)} rejected rows differ from raw, (shown, sent): {differ[:3]}"
    rejected = {row[url] for row in shown}
    assert len(rejected) == len(shown)
    assert {u for u in sent if "/bot/" in u} <= rejected, "every bot row is rejected"

    setup, accepted_sql = _compiled_over(warehouse, "stg_tracking__events", rows)
    accepted = warehouse.arrow(
        f"select context_page_url, event_name_raw from ({accepted_sql}) as accepted", setup=setup
    )
    names = dict(
        zip(
            accepted["context_page_url"].to_pylist(),
            accepted["event_name_raw"].to_pylist(),
            strict=True,
        )
    )
    assert len(names) > 0 and not rejected & names.keys()
    assert len(rejected) + len(names) == len(rows), "every row is accepted or rejected"
    event = EVENT_COLUMNS.index("event")
    assert names == {u: sent[u][event] for u in names}


def test_event_dedupe_does_not_depend_on_message_id_buckets(duckdb_warehouse):
    """A full refresh ranks the copies of a message only among the raw rows
    whose message-id bucket repeats (a 64-bit hash on DuckDB); a row that just
    shares a bucket with another id must classify as if alone. With coarse
    buckets (the id's length: thousands of unrelated ids per bucket) the
    classification is the same table, row for row."""
    compiled = (
        WORK_DIR
        / "dbt-duckdb"
        / "compiled"
        / "behavioral_segmentation"
        / "models"
        / "staging"
        / "tracking"
        / "base"
        / "base_tracking__events_classified.sql"
    )
    sql = compiled.read_text()
    bucket = "hash(nullif(trim(message_id), ''))"
    assert "repeated_message_buckets" in sql and bucket in sql, "not the full-refresh SQL"
    coarse_bucket = "length(nullif(trim(message_id), ''))"
    coarse = sql.replace(bucket, coarse_bucket)
    stored = "select * from staging.base_tracking__events_classified"
    [(extra, missing, exact_rows, coarse_rows)] = duckdb_warehouse.query(f"""
        with ids as (select nullif(trim(message_id), '') as id from raw.events)
        select
            (select count(*) from (({coarse}) except all ({stored}))),
            (select count(*) from (({stored}) except all ({coarse}))),
            (select count(*) from ids where id in
                (select id from ids group by id having count(*) > 1)),
            (select count(*) from ids where length(id) in
                (select length(id) from ids where id is not null group by 1 having count(*) > 1))
    """)
    assert (extra, missing) == (0, 0)
    # The coarse buckets did send unrelated rows through the ranking.
    assert coarse_rows > 10 * exact_rows > 0
