"""The main job's closing report: what was accepted and quarantined, who was
found, and (when the segment marts exist) the segments."""

from __future__ import annotations

from segmentation.warehouse import connect


def _relations(cur) -> set[str]:
    cur.execute("select table_schema || '.' || table_name from information_schema.tables")
    return {row[0] for row in cur.fetchall()}


def _rows(cur, sql: str) -> list[tuple]:
    cur.execute(sql)
    return cur.fetchall()


def format_table(headers: list[str], rows: list[tuple]) -> str:
    """Plain-text table, numbers right-aligned."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    numeric = [
        all(isinstance(row[i], (int, float)) or row[i] is None for row in rows)
        for i in range(len(headers))
    ]

    def line(values):
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def quarantine_report(cur, relations: set[str]) -> str:
    parts = []
    for table, base in [
        ("events", "staging.base_tracking__events_classified"),
        ("identifies", "staging.base_tracking__identifies_classified"),
        ("consent_events", "staging.base_cmp__consent_events_classified"),
    ]:
        if base not in relations:
            continue
        rows = _rows(
            cur,
            f"select coalesce(rejection_reason, 'accepted') as outcome, count(*) "
            f"from {base} group by 1 order by (coalesce(rejection_reason, 'accepted') = 'accepted') desc, 2 desc",
        )
        total = sum(r[1] for r in rows)
        table_rows = [
            (table if i == 0 else "", r[0], int(r[1]), 100.0 * r[1] / total)
            for i, r in enumerate(rows)
        ]
        parts.append(table_rows)
    flat = [r for p in parts for r in p]
    return format_table(["raw table", "outcome", "rows", "% of raw"], flat)


def segments_report(cur) -> str:
    """Each segment: owner, size, holdout, entries and exits of the last build."""
    rows = _rows(
        cur,
        """
        select segment_id, owner, member_type, review_state, member_count, holdout_count,
               entries_last_build, exits_last_build
        from marts.dim_segments
        order by member_count desc, segment_id
        """,
    )
    return format_table(
        ["segment", "owner", "members of", "review", "size", "holdout", "entered", "exited"],
        [(r[0], r[1], r[2], r[3], *(int(v) for v in r[4:])) for r in rows],
    )


def top_accounts_report(cur, limit: int = 10) -> str:
    """The accounts with the highest blended score."""
    rows = _rows(
        cur,
        f"""
        select account_name, account_tier, fit_score, engagement_index, intent_index,
               blended_score, engaged_persons
        from marts.dim_accounts
        order by blended_score desc, account_id
        limit {int(limit)}
        """,
    )
    return format_table(
        ["account", "tier", "fit", "engagement", "intent", "blended", "engaged persons"],
        [(r[0], r[1], float(r[2]), float(r[3]), float(r[4]), float(r[5]), int(r[6])) for r in rows],
    )


def print_summary(target: str | None = None) -> None:
    conn = connect(target, read_only=True) if target in (None, "duckdb") else connect(target)
    try:
        cur = conn.cursor()
        relations = _relations(cur)
        print("\n== Raw rows accepted and quarantined (by reason)")
        print(quarantine_report(cur, relations))
        counts = []
        for label, relation in [
            ("persons", "marts.dim_persons"),
            ("identifiers", "marts.dim_person_identifiers"),
            ("accounts", "marts.dim_accounts"),
            ("CRM accounts", "staging.stg_crm__accounts"),
            ("CRM contacts", "staging.stg_crm__contacts"),
            ("events resolved to persons", "marts.fct_events"),
        ]:
            if relation in relations:
                counts.append((label, int(_rows(cur, f"select count(*) from {relation}")[0][0])))
        print("\n== Who was found")
        print(format_table(["", "count"], counts))
        if "marts.dim_segments" in relations:
            print("\n== Segments (entered / exited: changes of the last build)")
            print(segments_report(cur))
        if "marts.dim_accounts" in relations:
            print("\n== Top accounts by blended score")
            print(top_accounts_report(cur))
    finally:
        conn.close()
