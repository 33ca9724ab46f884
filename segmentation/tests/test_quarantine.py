"""Quarantine against the generator's ground truth: every injected defect is
rejected with the right reason, and no clean row is rejected."""

from __future__ import annotations

import pytest

from segmentation.tests.conftest import AS_OF

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


def raw_received_at(target: str) -> str:
    return f"coalesce(raw_received_at, {TIMESTAMP_TEXT[target].format('received_at')})"


# The events' stored reason does not depend on as_of (the table is
# incremental); the retention rule (occurred more than retention_days = 395
# before as_of) comes right after the timestamp rules, as the views apply it.
EVENTS_AS_OF = f"""(
    select
        {RAW_MESSAGE_ID} as raw_message_id,
        {{raw_received_at}} as raw_received_at,
        case
            when rejection_reason in
                ('missing_message_id', 'unparseable_timestamp', 'future_timestamp')
                then rejection_reason
            when occurred_at < timestamp '{AS_OF}' - interval '395 days' then 'outside_retention'
            else rejection_reason
        end as rejection_reason
    from staging.base_tracking__events_classified
)"""

BASES = {
    "events": EVENTS_AS_OF,
    "identifies": "staging.base_tracking__identifies_classified",
    "consent_events": "staging.base_cmp__consent_events_classified",
}


@pytest.mark.parametrize("table", sorted(BASES))
def test_quarantine_matches_ground_truth_exactly(warehouse, truth, table):
    import pyarrow.compute as pc

    labels = truth["row_labels"].filter(pc.equal(truth["row_labels"]["table_name"], table))
    base = BASES[table].format(raw_received_at=raw_received_at(warehouse.target))
    got = warehouse.arrow(
        f"select raw_message_id as message_id, raw_received_at as received_at, "
        f"rejection_reason from {base} as classified"
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
