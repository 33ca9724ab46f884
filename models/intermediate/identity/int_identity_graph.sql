-- The identity map on targets without Python models: the SQL implementation of
-- resolve_identities (macro identity_graph_sql). On DuckDB the Python model of
-- the same name is enabled instead.
{{ config(enabled=target.type != 'duckdb', pre_hook=identity_graph_pre_hooks()) }}

{{ identity_graph_sql(ref('int_identity_edges')) }}
