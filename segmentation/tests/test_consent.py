"""Consent and right to delete against the generator's ground truth.

Truth (`_truth/`): `row_labels` labels every raw event with its person and whether
analytics consent held when it occurred; `persons` has analytics_withdrawn_at,
analytics_denied, is_deleted, is_opt_in_region; `identifiers` maps every identifier
to its person. The warehouse must keep no event without analytics consent, keep
none of a withdrawn person's events after the withdrawal, and hold no identifier
of a deleted person in any mart (clear or hashed), while listing them all in
privacy_suppressions.

Consent and deletion follow the identity map: a person the map splits (e.g. an
email-only person not linked to the device of its later events) cannot have its
withdrawal or deletion reach all its data. A failure confined to such persons is
reported as xfail (an identity-resolution gap), any other failure fails."""

from __future__ import annotations

import datetime as dt
import hashlib

import pyarrow.compute as pc
import pytest

SUPPRESSIONS = "privacy_suppressions"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _event_labels(truth) -> dict[str, tuple[str, bool]]:
    """message_id -> (person_key, is_analytics_consented) for accepted raw events."""
    labels = truth["row_labels"]
    labels = labels.filter(
        pc.and_(pc.equal(labels["table_name"], "events"), pc.is_null(labels["expected_reason"]))
    )
    return dict(
        zip(
            labels["message_id"].to_pylist(),
            zip(
                labels["person_key"].to_pylist(),
                labels["is_analytics_consented"].to_pylist(),
                strict=True,
            ),
            strict=True,
        )
    )


def _fct_events(warehouse) -> list[tuple[str, dt.datetime]]:
    return warehouse.query("select event_id, occurred_at from marts.fct_events")


def _naive_utc(value) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _split_persons(warehouse, truth) -> set[str]:
    """Truth persons the identity map does not resolve whole: their identifiers
    are spread over several person_ids, or one is missing from the map. Consent
    and deletion follow the identity map, so such a person's consent or deletion
    cannot reach all of its data: a failure confined to them is an
    identity-resolution gap (issue 3), not a consent-logic error."""
    ids = truth["identifiers"]
    owner = dict(
        zip(
            zip(
                ids["identifier_type"].to_pylist(), ids["identifier_value"].to_pylist(), strict=True
            ),
            ids["person_key"].to_pylist(),
            strict=True,
        )
    )
    person_ids: dict[str, set[str]] = {}
    mapped = set()
    for id_type, value, person_id in warehouse.query(
        "select identifier_type, identifier_value, person_id "
        "from intermediate.int_person_identifiers"
    ):
        key = owner.get((id_type, value))
        if key is not None:
            person_ids.setdefault(key, set()).add(person_id)
            mapped.add((id_type, value))
    unmapped = {key for ident, key in owner.items() if ident not in mapped}
    return unmapped | {key for key, found in person_ids.items() if len(found) > 1}


def _fail_unless_identity_gap(warehouse, truth, offenders: set[str], message: str) -> None:
    """Fails with `message` when some offending truth persons are resolved as one
    person; xfails when every offender is split by the identity map."""
    if not offenders:
        return
    split = _split_persons(warehouse, truth)
    assert offenders <= split, f"{message} ({len(offenders - split)} persons resolved whole)"
    pytest.xfail(
        f"{message}: all {len(offenders)} persons are not resolved whole by the identity map"
    )


def test_fct_events_holds_only_events_with_analytics_consent(warehouse, truth):
    """Every kept event had analytics consent when it occurred (truth label), which
    covers opt-in persons who denied and persons after a withdrawal."""
    labels = _event_labels(truth)
    kept = _fct_events(warehouse)
    assert kept, "fct_events must not be empty"
    unknown = [e for e, _ in kept if e not in labels]
    assert not unknown, f"{len(unknown)} fct_events rows are not accepted raw events"
    # The truth must contain unconsented accepted events, or this proves nothing.
    assert sum(1 for _, ok in labels.values() if not ok) > 0
    unconsented = [e for e, _ in kept if not labels[e][1]]
    _fail_unless_identity_gap(
        warehouse,
        truth,
        {labels[e][0] for e in unconsented},
        f"{len(unconsented)} events kept without analytics consent",
    )


def test_no_event_of_a_withdrawn_person_after_the_withdrawal(warehouse, truth):
    persons = truth["persons"]
    withdrawn = {
        key: _naive_utc(at)
        for key, at in zip(
            persons["person_key"].to_pylist(),
            persons["analytics_withdrawn_at"].to_pylist(),
            strict=True,
        )
        if at is not None
    }
    assert withdrawn, "the sample must contain withdrawals"
    labels = _event_labels(truth)
    before, after = 0, set()
    for event_id, occurred_at in _fct_events(warehouse):
        person_key = labels[event_id][0]
        if person_key in withdrawn:
            if _naive_utc(occurred_at) >= withdrawn[person_key]:
                after.add(person_key)
            else:
                before += 1
    assert before > 0, "withdrawn persons' earlier events must be kept (not over-excluded)"
    _fail_unless_identity_gap(
        warehouse, truth, after, f"events of {len(after)} withdrawn persons kept after withdrawal"
    )


def test_consented_events_are_kept(warehouse, truth):
    """The filter does not over-exclude: nearly every accepted, consented analytics
    event of a living person is in fct_events (the rest: events whose own purpose,
    marketing or advertising, was not granted, and identity-resolution misses)."""
    persons = truth["persons"]
    deleted = set(pc.filter(persons["person_key"], persons["is_deleted"]).to_pylist())
    labels = _event_labels(truth)
    expected = {e for e, (p, ok) in labels.items() if ok and p not in deleted}
    kept = {e for e, _ in _fct_events(warehouse)}
    recall = len(expected & kept) / len(expected)
    assert recall >= 0.9, f"only {recall:.1%} of consented events kept"


def _deleted_values(warehouse, truth) -> dict[str, str]:
    """Every value that must not appear in a mart, mapped to its deleted truth
    person: each identifier of a deleted person in clear (emails normalized) and
    as SHA-256, and each person_id the identity map gives those identifiers."""
    persons = truth["persons"]
    deleted = set(pc.filter(persons["person_key"], persons["is_deleted"]).to_pylist())
    assert deleted, "the sample must contain deletion requests"
    ids = truth["identifiers"]
    values: dict[str, str] = {}
    clear: dict[tuple[str, str], str] = {}
    for id_type, value, key in zip(
        ids["identifier_type"].to_pylist(),
        ids["identifier_value"].to_pylist(),
        ids["person_key"].to_pylist(),
        strict=True,
    ):
        if key not in deleted or not value:
            continue
        normalized = value.strip().lower() if id_type == "email" else value
        clear[(id_type, normalized)] = key
        for v in (value, normalized, _sha256(normalized)):
            values[v] = key
    for id_type, value, person_id in warehouse.query(
        "select identifier_type, identifier_value, person_id "
        "from intermediate.int_person_identifiers"
    ):
        if (id_type, value) in clear:
            values[person_id] = clear[(id_type, value)]
    return values


def _mart_text_columns(warehouse) -> dict[str, list[str]]:
    rows = warehouse.query(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' order by table_name, ordinal_position"
    )
    columns: dict[str, list[str]] = {}
    for table, column, data_type in rows:
        if data_type.lower() in ("varchar", "text", "character varying", "json", "jsonb"):
            columns.setdefault(table, []).append(column)
    return columns


def test_deleted_persons_absent_from_every_mart(warehouse, truth):
    """No text value of any mart (found in the catalog, so new marts are covered)
    equals an identifier of a deleted person, in clear or hashed, nor a person id
    the warehouse gave such an identifier; the suppression list excepted."""
    forbidden = _deleted_values(warehouse, truth)
    columns = _mart_text_columns(warehouse)
    assert "fct_events" in columns and SUPPRESSIONS in columns
    leaks: dict[str, list[str]] = {}
    for table, cols in columns.items():
        if table == SUPPRESSIONS:
            continue
        for column in cols:
            values = warehouse.query(f'select distinct "{column}" from marts."{table}"')
            found = {v for (v,) in values if v is not None} & forbidden.keys()
            if found:
                leaks[f"{table}.{column}"] = sorted(found)
    offenders = {forbidden[v] for found in leaks.values() for v in found}
    _fail_unless_identity_gap(
        warehouse,
        truth,
        offenders,
        f"data of {len(offenders)} deleted persons in marts: "
        + str({k: v[:2] for k, v in leaks.items()}),
    )


def test_suppression_list_covers_deleted_persons(warehouse, truth):
    """Destinations can delete: the hash of every identifier named on a deletion
    request, and of every identifier the truth gives a deleted person, is listed;
    no living person's identifier is."""
    hashes = {h for (h,) in warehouse.query(f"select identifier_hash from marts.{SUPPRESSIONS}")}
    assert all(len(h) == 64 and h == h.lower() for h in hashes), "lower-case hex SHA-256"

    requests = warehouse.query(
        "select anonymous_id, user_id, email from staging.stg_privacy__deletion_requests"
    )
    requested = {_sha256(v) for row in requests for v in row if v is not None}
    assert requested and requested <= hashes, "every requested identifier is suppressed"

    ids = truth["identifiers"]
    persons = truth["persons"]
    deleted = set(pc.filter(persons["person_key"], persons["is_deleted"]).to_pylist())
    owner: dict[str, tuple[str, bool]] = {}
    for id_type, value, key in zip(
        ids["identifier_type"].to_pylist(),
        ids["identifier_value"].to_pylist(),
        ids["person_key"].to_pylist(),
        strict=True,
    ):
        owner[_sha256(value.strip().lower() if id_type == "email" else value)] = (
            key,
            key in deleted,
        )
    living = {h for h in hashes if h in owner and not owner[h][1]}
    assert not living, f"{len(living)} identifiers of living persons would be deleted"
    missing = {h for h, (_, is_deleted) in owner.items() if is_deleted} - hashes
    _fail_unless_identity_gap(
        warehouse,
        truth,
        {owner[h][0] for h in missing},
        f"{len(missing)} identifiers of deleted persons not in {SUPPRESSIONS}",
    )


@pytest.mark.parametrize(
    "column", ["has_analytics_consent", "is_opt_in_region"], ids=["analytics", "region"]
)
def test_current_consent_matches_truth(warehouse, truth, column):
    """int_persons_consent_current (what dim_persons shows) against the truth for
    persons the warehouse resolved through their user_id."""
    persons = truth["persons"]
    as_of = dt.datetime(2026, 6, 1)
    expected = {}
    for user_id, denied, withdrawn_at, opt_in, is_deleted in zip(
        persons["user_id"].to_pylist(),
        persons["analytics_denied"].to_pylist(),
        persons["analytics_withdrawn_at"].to_pylist(),
        persons["is_opt_in_region"].to_pylist(),
        persons["is_deleted"].to_pylist(),
        strict=True,
    ):
        if user_id is None or is_deleted:
            continue
        if column == "is_opt_in_region":
            expected[user_id] = opt_in
        else:
            withdrawn = withdrawn_at is not None and _naive_utc(withdrawn_at) <= as_of
            expected[user_id] = not denied and not withdrawn
    got = dict(
        warehouse.query(
            f"select identifiers.identifier_value, consent.{column} "
            "from intermediate.int_person_identifiers as identifiers "
            "inner join intermediate.int_persons_consent_current as consent "
            "on identifiers.person_id = consent.person_id "
            "where identifiers.identifier_type = 'user_id'"
        )
    )
    common = expected.keys() & got.keys()
    assert len(common) > 100, "most users must be resolved"
    wrong = [u for u in common if bool(got[u]) != expected[u]]
    assert not wrong, f"{len(wrong)} of {len(common)} users have the wrong {column}"
