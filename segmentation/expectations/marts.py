"""Marts suite: the output contract of DESIGN.md section 4, after `dbt build`.

Per mart: contract columns present, primary key unique and not null, scores in range,
tiers and lifecycle stages in their sets. Across segments (queries joining dim_segments
and fct_segment_membership, computed in the warehouse): no segment empty, holdout share
within tolerance of the segment's holdout_percent, no segment whose size changed by more
than a factor since the previous passing validation.

The assumed column names and value sets are in `MARTS` and the `SEGMENT_*` names below:
adjust them there when the marts change. Thresholds are in thresholds.yml."""

from __future__ import annotations

from dataclasses import dataclass, field

from segmentation.expectations import AssetCheck, quote, relation


@dataclass(frozen=True)
class Mart:
    key: str
    not_null: tuple[str, ...] = ()
    # column -> accepted values (NULL is accepted too unless the column is in not_null)
    accepted_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # column -> (min, max); None leaves a side open
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)


MARTS: dict[str, Mart] = {
    "dim_persons": Mart(
        key="person_id",
        not_null=("lifecycle_stage",),
        accepted_values={
            "lifecycle_stage": ("new", "active", "dormant", "churned"),
            "usage_tier": ("power", "average", "light", "ex_user"),
        },
        ranges={
            "total_score": (0, None),
            "engagement_score": (0, None),
            "intent_score": (0, None),
            "product_score": (0, None),
            "days_since_last_event": (0, None),
        },
    ),
    "dim_accounts": Mart(
        key="account_id",
        not_null=("account_tier", "fit_score", "blended_score"),
        accepted_values={"account_tier": ("A", "B", "C", "D"), "fit_tier": ("A", "B", "C", "D")},
        ranges={
            # 0-100 scores; the raw decayed sums (engagement_score, intent_score) are >= 0.
            "fit_score": (0, 100),
            "third_party_intent_score": (0, 100),
            "first_party_intent_score": (0, 100),
            "engagement_index": (0, 100),
            "intent_index": (0, 100),
            "blended_score": (0, 100),
            "engagement_score": (0, None),
            "intent_score": (0, None),
            "engaged_persons": (0, None),
        },
    ),
    "dim_segments": Mart(
        key="segment_id",
        not_null=("holdout_percent",),
        ranges={"holdout_percent": (0, 100), "member_count": (0, None)},
    ),
    "fct_segment_membership": Mart(
        key="membership_id",
        not_null=("segment_id", "member_id", "member_type", "entered_at", "is_holdout"),
        accepted_values={"member_type": ("person", "account")},
    ),
}

SEGMENTS_TABLE = "dim_segments"
MEMBERSHIP_TABLE = "fct_segment_membership"
SEGMENT_ID = "segment_id"
HOLDOUT_PERCENT = "holdout_percent"  # 0-100
IS_HOLDOUT = "is_holdout"  # boolean


def segment_sizes_query(schema: str) -> str:
    """Current members per segment (holdout included), for the size-change baseline."""
    return (
        f"select cast({quote(SEGMENT_ID)} as varchar) as segment_id, count(*) as members "
        f"from {relation(schema, MEMBERSHIP_TABLE)} group by 1"
    )


def _segment_stats_cte(schema: str) -> str:
    # {batch} is dim_segments as great-expectations selects it: a subquery, which PostgreSQL
    # only accepts with an alias. GX adds one itself ("AS subselect") unless the query has a
    # join, as this one has: alias it here and nowhere else.
    return f"""
with segments as (
    select
        cast({quote(SEGMENT_ID)} as varchar) as segment_id,
        cast({quote(HOLDOUT_PERCENT)} as double precision) as holdout_percent
    from {{batch}} as segments_batch
),
members as (
    select
        cast({quote(SEGMENT_ID)} as varchar) as segment_id,
        count(*) as members,
        sum(case when {quote(IS_HOLDOUT)} then 1 else 0 end) as holdout_members
    from {relation(schema, MEMBERSHIP_TABLE)}
    group by 1
),
stats as (
    select
        segments.segment_id,
        segments.holdout_percent,
        cast(coalesce(members.members, 0) as double precision) as members,
        cast(coalesce(members.holdout_members, 0) as double precision) as holdout_members
    from segments
    left join members on segments.segment_id = members.segment_id
)"""


def build_marts_checks(
    thresholds: dict,
    schema: str,
    existing_columns: dict[str, list[str]],
    previous_sizes: dict[str, int] | None = None,
) -> list[AssetCheck]:
    import great_expectations.expectations as gxe

    t = thresholds["marts"]
    checks = []
    for name, mart in MARTS.items():
        if name not in existing_columns:
            continue
        present = set(existing_columns[name])
        columns = [mart.key, *mart.not_null, *mart.accepted_values, *mart.ranges]
        check = AssetCheck(
            name=f"marts.{name}",
            table=f"{schema}.{name}",
            query=f"select * from {relation(schema, name)}",
        )
        add = check.expectations.append
        add(
            gxe.ExpectTableColumnsToMatchSet(
                column_set=list(dict.fromkeys(columns)),
                exact_match=False,
                description="contract columns present",
            )
        )
        if mart.key in present:
            add(gxe.ExpectColumnValuesToNotBeNull(column=mart.key, description="key not null"))
            checks.append(_key_check(schema, name, mart.key, gxe.UnexpectedRowsExpectation))
        for column in mart.not_null:
            if column in present:
                add(gxe.ExpectColumnValuesToNotBeNull(column=column, description="not null"))
        for column, values in mart.accepted_values.items():
            if column in present:
                add(
                    gxe.ExpectColumnValuesToBeInSet(
                        column=column,
                        value_set=list(values),
                        description=f"values outside {', '.join(values)}",
                    )
                )
        for column, (low, high) in mart.ranges.items():
            if column in present:
                add(
                    gxe.ExpectColumnValuesToBeBetween(
                        column=column,
                        min_value=low,
                        max_value=high,
                        description=f"values outside [{low}, {'' if high is None else high}]",
                    )
                )
        checks.append(check)

    if SEGMENTS_TABLE in existing_columns and MEMBERSHIP_TABLE in existing_columns:
        checks.append(
            _segment_check(t, schema, previous_sizes or {}, gxe.UnexpectedRowsExpectation)
        )
    return checks


def _key_check(schema: str, name: str, key: str, rows_expectation) -> AssetCheck:
    # A group-by (one hash aggregate) instead of expect_column_values_to_be_unique, whose
    # per-value window took 80 s on 10M rows; the duplicated keys come back with the result.
    return AssetCheck(
        name=f"marts.{name}.key",
        table=f"{schema}.{name}",
        query=f"select {quote(key)} from {relation(schema, name)}",
        complete_results=True,
        expectations=[
            rows_expectation(
                unexpected_rows_query=(
                    f"select {quote(key)}, count(*) as copies from {{batch}} "
                    f"where {quote(key)} is not null group by {quote(key)} having count(*) > 1"
                ),
                description=f"duplicate {key} values",
                meta={"column": key},
            )
        ],
    )


def _segment_check(t: dict, schema: str, previous_sizes: dict[str, int], rows_expectation):
    stats = _segment_stats_cte(schema)
    check = AssetCheck(
        name="marts.segments",
        table=f"{schema}.{SEGMENTS_TABLE} + {schema}.{MEMBERSHIP_TABLE}",
        query=f"select * from {relation(schema, SEGMENTS_TABLE)}",
        complete_results=True,
    )
    min_members = int(t["min_segment_members"])
    if min_members > 0:
        check.expectations.append(
            rows_expectation(
                unexpected_rows_query=(
                    f"{stats}\nselect segment_id, members from stats where members < {min_members}"
                ),
                description=f"segments with fewer than {min_members} members",
            )
        )
    points = float(t["holdout_tolerance_points"])
    sigmas = float(t["holdout_tolerance_sigmas"])
    check.expectations.append(
        rows_expectation(
            unexpected_rows_query=f"""{stats},
judged as (
    select
        segment_id,
        members,
        holdout_percent,
        100.0 * holdout_members / members as observed_holdout_percent,
        {points} + {sigmas} * 100.0 * sqrt(
            (holdout_percent / 100.0) * (1 - holdout_percent / 100.0) / members
        ) as allowed_deviation_points
    from stats
    where members > 0
)
select * from judged
where abs(observed_holdout_percent - holdout_percent) > allowed_deviation_points""",
            description=(
                f"segments whose holdout share is off its holdout_percent by more than "
                f"{points} points + {sigmas} sigma"
            ),
        )
    )
    factor = float(t["max_segment_size_change_factor"])
    floor = int(t["min_members_for_size_change"])
    judged = {k: int(v) for k, v in previous_sizes.items() if int(v) >= 0}
    if judged:
        values = ", ".join(f"('{k.replace(chr(39), chr(39) * 2)}', {v})" for k, v in judged.items())
        check.expectations.append(
            rows_expectation(
                unexpected_rows_query=f"""{stats},
previous (segment_id, previous_members) as (
    values {values}
)
select
    stats.segment_id,
    previous.previous_members,
    stats.members
from stats
inner join previous on stats.segment_id = previous.segment_id
where (stats.members >= {floor} or previous.previous_members >= {floor})
    and (
        stats.members > previous.previous_members * {factor}
        or stats.members * {factor} < previous.previous_members
    )""",
                description=(
                    f"segments whose size changed by more than x{factor} since the "
                    f"previous passing validation"
                ),
            )
        )
    return check
