"""The identity map on DuckDB: one row per identifier with its person, computed
by segmentation.identity.resolve_identities (rules in its docstring). On other
targets the same-named SQL model (int_identity_graph.sql) is enabled instead."""

from segmentation.identity import resolve_identities


def model(dbt, session):
    dbt.config(materialized="table")
    edges = dbt.ref("int_identity_edges").to_arrow_table()
    return resolve_identities(
        edges,
        max_user_ids_per_anonymous_id=int(dbt.config.meta_get("max_user_ids_per_anonymous_id")),
        max_emails_per_anonymous_id=int(dbt.config.meta_get("max_emails_per_anonymous_id")),
        max_user_ids_per_email=int(dbt.config.meta_get("max_user_ids_per_email")),
    )
