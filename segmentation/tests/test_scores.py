"""Decayed scores against an independent oracle: every person's and account's
scores, window counts and recency recomputed with NumPy from the consented
events (fct_events, the input contract of the scoring layer) and the taxonomy
seed file, compared within 1e-9 relative."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from segmentation import PROJECT_DIR
from segmentation.tests.conftest import AS_OF

CATEGORIES = ("engagement", "intent", "product")
WINDOWS = (7, 30, 90)
ENGAGED_PERSON_DAYS = 30


def oracle_scores(events: pd.DataFrame, taxonomy: pd.DataFrame, as_of: dt.datetime, key: str):
    """Scores per `key` (person_id or account_id): weight * 0.5 ** (age / half_life)
    summed over events at or before as_of; window counts inclusive of both ends."""
    ev = events[events[key].notna()].merge(
        taxonomy[["event_name", "weight", "half_life_days"]], on="event_name", how="inner"
    )
    occurred = pd.to_datetime(ev["occurred_at"]).astype("datetime64[us]")
    age = (np.datetime64(as_of, "us") - occurred.to_numpy()) / np.timedelta64(1, "s") / 86400.0
    ev = ev.assign(age_days=age)
    ev = ev[ev["age_days"] >= 0]
    ev = ev.assign(decayed=ev["weight"] * np.power(0.5, ev["age_days"] / ev["half_life_days"]))
    out = ev.groupby(key).agg(total_score=("decayed", "sum"), last_age=("age_days", "min"))
    for category in CATEGORIES:
        part = ev[ev["score_category"] == category].groupby(key)["decayed"].sum()
        out[f"{category}_score"] = part.reindex(out.index).fillna(0.0)
    for days in WINDOWS:
        inside = ev[ev["age_days"] <= days]
        out[f"events_{days}d"] = inside.groupby(key).size().reindex(out.index).fillna(0)
    engaged = ev[ev["age_days"] <= ENGAGED_PERSON_DAYS].groupby(key)["person_id"].nunique()
    out["engaged_persons"] = engaged.reindex(out.index).fillna(0)
    return out


def _load(warehouse):
    events = warehouse.arrow(
        "select person_id, account_id, event_name, score_category, occurred_at from marts.fct_events"
    ).to_pandas()
    taxonomy = pd.read_csv(PROJECT_DIR / "seeds" / "event_taxonomy.csv")
    return events, taxonomy, dt.datetime.fromisoformat(AS_OF)


def _compare(expected: pd.DataFrame, actual: pd.DataFrame, columns: list[str]) -> None:
    actual = actual.set_index(actual.columns[0])
    scored = actual.index.intersection(expected.index)
    assert len(scored) == len(expected), "every entity with consented events has a score"
    unscored = actual.index.difference(expected.index)
    assert (actual.loc[unscored, "total_score"] == 0).all(), "no events, score 0"
    got = actual.loc[expected.index]
    for column in columns:
        np.testing.assert_allclose(
            got[column].astype(float).to_numpy(),
            expected[column].astype(float).to_numpy(),
            rtol=1e-9,
            atol=1e-12,
            err_msg=column,
        )


def test_person_scores_match_oracle(warehouse):
    events, taxonomy, as_of = _load(warehouse)
    expected = oracle_scores(events, taxonomy, as_of, "person_id")
    assert len(expected) > 500, "the sample must score many persons"
    cols = ["total_score", *(f"{c}_score" for c in CATEGORIES), *(f"events_{d}d" for d in WINDOWS)]
    actual = warehouse.arrow(
        f"select person_id, {', '.join(cols)}, days_since_last_event from marts.dim_persons"
    ).to_pandas()
    # dim_persons drops deleted persons; fct_events never has them.
    _compare(expected, actual, cols)
    got = actual.set_index("person_id").loc[expected.index, "days_since_last_event"]
    np.testing.assert_allclose(got.to_numpy(float), expected["last_age"].to_numpy(), rtol=1e-9)


def test_account_scores_match_oracle(warehouse):
    events, taxonomy, as_of = _load(warehouse)
    expected = oracle_scores(events, taxonomy, as_of, "account_id")
    assert len(expected) > 50
    cols = [
        "total_score",
        *(f"{c}_score" for c in CATEGORIES),
        *(f"events_{d}d" for d in WINDOWS),
        "engaged_persons",
    ]
    actual = warehouse.arrow(
        f"select account_id, {', '.join(cols)}, days_since_last_event from marts.dim_accounts"
    ).to_pandas()
    _compare(expected, actual, cols)
    got = actual.set_index("account_id").loc[expected.index, "days_since_last_event"]
    np.testing.assert_allclose(got.to_numpy(float), expected["last_age"].to_numpy(), rtol=1e-9)


def test_fit_scores_match_oracle(warehouse):
    """ICP fit recomputed from the rules file: best rule per attribute, summed, capped."""
    rules = pd.read_csv(PROJECT_DIR / "seeds" / "icp_rules.csv")
    accounts = warehouse.arrow(
        "select account_id, industry, employee_count, annual_revenue_usd, country, fit_score "
        "from marts.dim_accounts"
    ).to_pandas()

    def fit(row) -> float:
        total = 0.0
        for attribute, group in rules.groupby("attribute"):
            value = row[attribute]
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            if group["match_value"].notna().any():
                hits = group[group["match_value"].str.lower() == str(value).lower()]
            else:
                v = float(value)
                hits = group[(group["min_value"] <= v) & (group["max_value"] >= v)]
            total += hits["points"].max() if len(hits) else 0
        return min(total, 100.0)

    expected = accounts.apply(fit, axis=1)
    assert (expected > 0).sum() > 10
    np.testing.assert_allclose(accounts["fit_score"].to_numpy(float), expected.to_numpy(float))


@pytest.mark.parametrize("half_lives", [0, 1, 2, 5])
def test_oracle_itself_on_half_life_multiples(half_lives):
    """The oracle's own arithmetic on a hand case, so a shared mistake cannot pass both."""
    as_of = dt.datetime(2026, 6, 1)
    events = pd.DataFrame(
        {
            "person_id": ["p"],
            "event_name": ["Pricing_Viewed"],
            "score_category": ["intent"],
            "occurred_at": [as_of - dt.timedelta(days=14 * half_lives)],
        }
    )
    taxonomy = pd.DataFrame(
        {"event_name": ["Pricing_Viewed"], "weight": [5.0], "half_life_days": [14.0]}
    )
    got = oracle_scores(events, taxonomy, as_of, "person_id")
    assert got.loc["p", "total_score"] == 5.0 / 2**half_lives
    future = events.assign(occurred_at=[as_of + dt.timedelta(seconds=1)])
    assert oracle_scores(future, taxonomy, as_of, "person_id").empty
