"""Tests of the sample data generator.

The strongest checks use independent oracles: a small pandas re-implementation
of the quarantine rules (BRIEF: reasons, order, placeholders) must give exactly
the generator's `expected_reason` for every raw row, and the archetype rules are
re-computed from the accepted rows and compared with the ground-truth flags.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmentation import PROJECT_DIR
from segmentation.generate import (
    INTEGER_COLUMNS,
    LANDING_TABLES,
    DefectRates,
    generate,
)

N = 20_000
END = dt.date(2026, 11, 23)
AS_OF = pd.Timestamp("2026-11-23", tz="UTC")
EVENT_DEFECTS = [
    "legacy_alias",
    "miscased_name",
    "placeholder_id",
    "late_arrival",
    "mixed_case_email",
    "unknown_event",
    "missing_required_property",
    "no_identifier",
    "unparseable_timestamp",
    "future_timestamp",
    "bot_user_agent",
    "outside_retention",
    "duplicate_message_id",
]
VALID_TS = re.compile(
    r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{3})?Z"
    r"| \d{2}:\d{2}:\d{2}\+00:00"
    r"|T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2})$"
)
PLACEHOLDERS = {"", "null", "none", "undefined", "anonymous", "nil", "nan", "-1", "unknown"}


def read(path, table):
    return pq.read_table(path / table).to_pandas()


def seed_csv(name):
    return pd.read_csv(PROJECT_DIR / "seeds" / f"{name}.csv", keep_default_na=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("landing")
    summary = generate(out, n_events=N, seed=7, end_date=END, progress=False)
    return out, summary


@pytest.fixture(scope="module")
def events(world):
    out, _ = world
    ev = read(out, "events")
    labels = read(out / "_truth", "row_labels.parquet")
    labels = labels[labels.table_name == "events"]
    merged = ev.merge(labels, on=["message_id", "received_at"], how="left", validate="1:1")
    assert len(merged) == len(ev)
    return merged


def parse_ts(s: pd.Series) -> pd.Series:
    valid = s.fillna("").str.match(VALID_TS)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    out[valid] = pd.to_datetime(s[valid], format="ISO8601", utc=True)
    return out


def is_placeholder(s: pd.Series) -> pd.Series:
    norm = s.fillna("").str.strip().str.lower()
    return s.isna() | norm.isin(PLACEHOLDERS) | norm.str.fullmatch(r"[0-]+")


def taxonomy():
    tax = seed_csv("event_taxonomy")
    names = {}
    required = {}
    for row in tax.itertuples():
        names[row.event_name.lower()] = row.event_name
        for alias in filter(None, row.aliases.split("|")):
            names[alias.strip().lower()] = row.event_name
        required[row.event_name] = [k for k in row.required_properties.split("|") if k]
    return names, required


def oracle_reasons(ev: pd.DataFrame) -> pd.Series:
    """The quarantine rules of the BRIEF, written independently of the generator."""
    names, required = taxonomy()
    bots = seed_csv("bot_user_agent_patterns").pattern.str.lower().tolist()
    occurred, received = parse_ts(ev.occurred_at), parse_ts(ev.received_at)
    canonical = ev.event.fillna("").str.strip().str.lower().map(names)

    def missing(row):
        keys = required.get(row.canon) or []
        props = json.loads(row.properties or "{}")
        return any(props.get(k) in (None, "") for k in keys)

    tmp = pd.DataFrame({"canon": canonical, "properties": ev.properties})
    no_id = is_placeholder(ev.anonymous_id) & is_placeholder(ev.user_id) & is_placeholder(ev.email)
    ua = ev.context_user_agent.fillna("").str.lower()
    bot = np.zeros(len(ev), bool)
    for pattern in bots:
        bot |= ua.str.contains(pattern, regex=False).to_numpy()
    checks = [
        ("unparseable_timestamp", occurred.isna() | received.isna()),
        ("future_timestamp", occurred > received + pd.Timedelta(minutes=10)),
        ("outside_retention", occurred < AS_OF - pd.Timedelta(days=395)),
        ("unknown_event", canonical.isna()),
        ("missing_required_property", tmp.apply(missing, axis=1)),
        ("no_identifier", no_id),
        ("bot_user_agent", pd.Series(bot, index=ev.index)),
    ]
    reason = pd.Series(None, index=ev.index, dtype=object)
    for name, mask in checks:
        reason[mask.fillna(False).astype(bool) & reason.isna()] = name
    passed = ev[reason.isna()].assign(
        _r=received[reason.isna()], _i=np.arange(len(ev))[reason.isna()]
    )
    rank = passed.sort_values(["_r", "_i"]).groupby("message_id").cumcount()
    reason[rank[rank > 0].index] = "duplicate_message_id"
    return reason


def test_contract_columns_and_types(world):
    out, _ = world
    for table, columns in LANDING_TABLES.items():
        files = sorted((out / table).glob("*.parquet"))
        assert files and files[0].name == "part-00000.parquet"
        schema = pq.read_schema(files[0])
        assert schema.names == columns, table
        for field in schema:
            expected = "int64" if field.name in INTEGER_COLUMNS else "string"
            assert str(field.type) == expected, (table, field.name, field.type)


def test_row_volume(world):
    out, summary = world
    n = pq.read_metadata(out / "events" / "part-00000.parquet").num_rows
    assert abs(n - N) <= 0.02 * N
    assert summary["events"] == n
    for table in ("identifies", "consent_events", "crm_contacts", "crm_accounts"):
        assert summary[table] > 0
        assert summary[table] == pq.read_metadata(out / table / "part-00000.parquet").num_rows


def test_deterministic_and_seed_sensitive(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, n_events=6_000, seed=1, end_date=END, progress=False)
    generate(b, n_events=6_000, seed=1, end_date=END, progress=False)
    generate(c, n_events=6_000, seed=2, end_date=END, progress=False)
    tables = [*LANDING_TABLES, *(f"_truth/{t}.parquet" for t in ("row_labels", "persons"))]
    for table in tables:
        assert pq.read_table(a / table).equals(pq.read_table(b / table)), table
    assert not pq.read_table(a / "events").equals(pq.read_table(c / "events"))
    # re-generating into an existing directory replaces it
    generate(a, n_events=5_000, seed=3, end_date=END, progress=False)
    assert pq.read_metadata(a / "events" / "part-00000.parquet").num_rows == 5_000


def test_defect_rates_match_configuration(events):
    rates = DefectRates()
    counts = events.defect.value_counts()
    for name in EVENT_DEFECTS:
        rate = getattr(rates, name)
        observed = counts.get(name, 0) / len(events)
        assert abs(observed - rate) <= max(0.0015, 0.2 * rate), (name, observed, rate)
    assert events.defect.notna().sum() == sum(counts.get(n, 0) for n in EVENT_DEFECTS)


def test_zero_rates_give_no_defects(tmp_path):
    zero = {f.name: 0.0 for f in dataclasses.fields(DefectRates)}
    generate(tmp_path / "z", n_events=6_000, seed=5, end_date=END, progress=False, rates=zero)
    labels = read(tmp_path / "z" / "_truth", "row_labels.parquet")
    assert labels.defect.isna().all()
    assert len(labels[labels.table_name == "events"]) == 6_000
    generate(
        tmp_path / "one",
        n_events=6_000,
        seed=5,
        end_date=END,
        progress=False,
        rates={"bot_user_agent": 0.0, "legacy_alias": 0.05},
    )
    labels = read(tmp_path / "one" / "_truth", "row_labels.parquet")
    assert (labels.defect == "bot_user_agent").sum() == 0
    assert (labels.defect == "legacy_alias").sum() == 300
    with pytest.raises(ValueError, match="unknown defect"):
        DefectRates.from_overrides({"typo": 0.1})


def test_truth_covers_every_raw_row(world):
    out, _ = world
    labels = read(out / "_truth", "row_labels.parquet")
    assert not labels.duplicated(["table_name", "message_id", "received_at"]).any()
    for table in ("events", "identifies", "consent_events"):
        raw = read(out, table)
        sub = labels[labels.table_name == table]
        assert len(raw) == len(sub), table
        keys = raw.merge(sub, on=["message_id", "received_at"], how="inner")
        assert len(keys) == len(raw), table


def test_expected_reasons_match_an_independent_oracle(events):
    reason = oracle_reasons(events)
    expected = events.expected_reason
    diff = events[(reason.fillna("-") != expected.fillna("-"))]
    assert diff.empty, diff[["event", "occurred_at", "received_at", "defect"]].head()
    # every rejection reason of the BRIEF occurs
    assert set(expected.dropna()) == set(EVENT_DEFECTS) - {
        "legacy_alias",
        "miscased_name",
        "placeholder_id",
        "late_arrival",
        "mixed_case_email",
    }


def test_clean_rows_are_clean(events):
    names, required = taxonomy()
    canonical = set(required)
    clean = events[events.defect.isna()]
    assert clean.event.isin(canonical).all()
    assert (clean.event == clean.event_name).all()
    for row in clean[["event", "properties"]].itertuples():
        props = json.loads(row.properties)
        assert all(props.get(k) not in (None, "") for k in required[row.event]), row
    fu = clean[clean.event == "Feature_Used"].properties.map(json.loads)
    assert set(fu.map(lambda p: p["feature_tier"])) == {"basic", "advanced"}
    accepted = events[events.expected_reason.isna()]
    occurred, received = parse_ts(accepted.occurred_at), parse_ts(accepted.received_at)
    assert occurred.notna().all() and received.notna().all()
    assert accepted.received_at.str.endswith("Z").all()
    assert (received >= occurred).all()
    assert (received < AS_OF).all()
    assert (occurred >= AS_OF - pd.Timedelta(days=180)).all()
    forms = accepted.occurred_at.str.extract(r"(\.\d{3}Z|Z|\+00:00|[+-]\d{2}:\d{2})$")[0]
    assert forms.map(lambda f: "Z" if f == "Z" else f).nunique() >= 4
    bots = seed_csv("bot_user_agent_patterns").pattern.str.lower()
    ua = accepted.context_user_agent.dropna().str.lower().unique()
    assert not [u for u in ua if any(p in u for p in bots)]
    late = accepted[accepted.defect == "late_arrival"]
    lag = parse_ts(late.received_at) - parse_ts(late.occurred_at)
    assert lag.between(pd.Timedelta(days=1), pd.Timedelta(days=10)).all()
    # mixed-case emails and aliases do occur among accepted rows
    mixed = accepted[accepted.defect == "mixed_case_email"].email
    assert (mixed != mixed.str.strip().str.lower()).all()
    assert accepted.event.str.strip().str.lower().map(names).notna().all()


def test_side_table_defects(world):
    out, _ = world
    labels = read(out / "_truth", "row_labels.parquet")
    cons = read(out, "consent_events").merge(labels, on=["message_id", "received_at"])
    bad = ~cons.purpose.isin(["analytics", "personalization", "marketing", "advertising"])
    bad |= ~cons.status.isin(["granted", "denied", "withdrawn"])
    assert (bad == (cons.expected_reason == "invalid_value")).all()
    for table, frame in (("consent_events", cons), ("identifies", None)):
        if frame is None:
            frame = read(out, table).merge(labels, on=["message_id", "received_at"])
        unparseable = parse_ts(frame.occurred_at).isna()
        assert (unparseable == (frame.expected_reason == "unparseable_timestamp")).all(), table
        no_id = (
            is_placeholder(frame.anonymous_id)
            & is_placeholder(frame.user_id)
            & is_placeholder(frame.email)
        )
        assert (no_id == (frame.expected_reason == "no_identifier")).all(), table
        dups = frame[frame.expected_reason == "duplicate_message_id"]
        assert len(dups) > 0
        first = frame[frame.defect.isna()].set_index("message_id")
        src = first.loc[dups.message_id]
        assert (src.occurred_at.to_numpy() == dups.occurred_at.to_numpy()).all()
        assert (parse_ts(src.received_at).to_numpy() < parse_ts(dups.received_at).to_numpy()).all()


def _accepted_person_events(events):
    acc = events[events.expected_reason.isna()].copy()
    acc["ts"] = parse_ts(acc.occurred_at)
    acc["age_days"] = (AS_OF - acc.ts).dt.total_seconds() / 86400
    return acc


def test_archetypes_are_clear_groups(world, events):
    out, _ = world
    persons = read(out / "_truth", "persons.parquet").set_index("person_key")
    flags = ["is_high_intent", "is_power_user", "is_upsell_candidate", "is_at_risk", "is_win_back"]
    assert (persons[flags].sum() >= 6).all()
    assert (persons[flags].sum(axis=1) <= 1).all()
    acc = _accepted_person_events(events)

    def count(mask, window):
        sub = acc[mask & (acc.age_days <= window)]
        return sub.groupby("person_key").size().reindex(persons.index, fill_value=0)

    name = acc.event_name
    not_customer = persons.lifecycle_status != "customer"
    hi = (
        not_customer
        & (count(name == "Pricing_Viewed", 14) >= 1)
        & (count(name.isin(["Email_Opened", "Email_Clicked"]), 30) >= 2)
        & (count(name == "Case_Study_Viewed", 30) >= 1)
    )
    assert (hi == persons.is_high_intent).all()

    advanced = name.eq("Feature_Used") & acc.properties.str.contains('"advanced"')
    upsell = (persons.plan == "free") & (count(advanced, 7) >= 3)
    assert upsell[persons.is_upsell_candidate].all()
    assert upsell.sum() <= persons.is_upsell_candidate.sum() * 1.1 + 1

    product = name.isin(["App_Opened", "Feature_Used", "Report_Exported"])
    usage30 = count(product, 30)
    users = usage30[usage30 > 0]
    assert usage30[persons.is_power_user].min() > users.quantile(0.9)
    assert persons.is_power_user.sum() <= 0.1 * len(users)

    old_usage = count(product & (acc.age_days > 30), 90)
    at_risk = (persons.lifecycle_status == "customer") & (old_usage >= 10) & (usage30 <= 1)
    assert (at_risk == persons.is_at_risk).all()

    cancelled = acc[(name == "Subscription_Cancelled") & acc.age_days.between(60, 150)]
    web = count(name.isin(["Page_Viewed", "Pricing_Viewed", "Blog_Post_Viewed"]), 30) > 0
    win_back = (
        (persons.lifecycle_status == "former_customer")
        & persons.index.isin(cancelled.person_key)
        & web
    )
    assert (win_back == persons.is_win_back).all()


def test_identity_truth_is_consistent_with_rows(world, events):
    out, _ = world
    ids = read(out / "_truth", "identifiers.parquet")
    assert not ids.duplicated(["identifier_type", "identifier_value"]).any()
    acc = events[events.expected_reason.isna()]
    anon = ids[ids.identifier_type == "anonymous_id"].set_index("identifier_value")
    rows = acc[~is_placeholder(acc.anonymous_id)]
    owner = anon.reindex(rows.anonymous_id)
    assert owner.person_key.notna().sum() + owner.is_shared_device.sum() >= len(rows)
    own = ~owner.is_shared_device.to_numpy()
    assert (owner.person_key.to_numpy()[own] == rows.person_key.to_numpy()[own]).all()
    # kiosks: >= 6 user ids, no owner; laptops: exactly 2 user ids, owner = latest user
    shared = rows[owner.is_shared_device.to_numpy()]
    users = shared.groupby("anonymous_id").user_id.nunique()
    kiosks = anon[anon.is_shared_device & anon.person_key.isna()].index
    laptops = anon[anon.is_shared_device & anon.person_key.notna()].index
    assert len(kiosks) >= 1 and len(laptops) >= 2
    assert (users[kiosks] >= 6).all()
    assert (users[laptops] == 2).all()
    shared = shared.assign(ts=parse_ts(shared.occurred_at))
    latest = shared.sort_values("ts").groupby("anonymous_id").person_key.last()
    assert (latest[laptops] == anon.loc[laptops, "person_key"]).all()
    emails = ids[ids.identifier_type == "email"].identifier_value
    assert (emails == emails.str.strip().str.lower()).all()
    by_email = ids[ids.identifier_type == "email"].set_index("identifier_value").person_key
    rows = acc[acc.email.notna()]
    assert (by_email.loc[rows.email.str.strip().str.lower()].to_numpy() == rows.person_key).all()


def test_world_shares(world):
    out, _ = world
    persons = read(out / "_truth", "persons.parquet")
    accounts = read(out / "_truth", "accounts.parquet")
    crm = read(out, "crm_accounts")
    assert 0.22 <= persons.is_opt_in_region.mean() <= 0.40
    assert 0.03 <= persons.analytics_withdrawn_at.notna().mean() <= 0.07
    assert persons.analytics_denied.sum() > 0 and persons.has_gpc.sum() > 0
    identified = persons.email.notna()
    assert 0.005 <= persons.is_deleted[identified].mean() <= 0.02
    assert 0.15 <= accounts.is_icp_fit.mean() <= 0.30
    assert crm.domain.is_unique and len(crm) >= 30
    hot = accounts[accounts.is_hot]
    assert len(hot) >= 3
    assert hot.is_icp_fit.all() and hot.has_intent_surge.all()
    assert (hot.engaged_persons_30d >= 2).all()
    signals = read(out, "intent_signals")
    assert signals.intensity.between(0, 100).all()
    assert (pd.to_datetime(signals.observed_on) < pd.Timestamp(END)).all()
    dels = read(out, "deletion_requests")
    assert len(dels) == persons.is_deleted.sum()
    assert (dels[["anonymous_id", "user_id", "email"]].notna().sum(axis=1) == 1).all()


def test_duplicates_are_exact_copies_of_clean_rows(events):
    dups = events[events.defect == "duplicate_message_id"]
    originals = events[events.defect.isna()].set_index("message_id").loc[dups.message_id]
    columns = [c for c in LANDING_TABLES["events"] if c not in ("message_id", "received_at")]
    left = dups[columns].reset_index(drop=True)
    right = originals[columns].reset_index(drop=True)
    assert left.equals(right)
    lag = parse_ts(dups.received_at).to_numpy() - parse_ts(originals.received_at).to_numpy()
    assert (lag >= np.timedelta64(1, "s")).all() and (lag <= np.timedelta64(2, "h")).all()
