-- The SQL implementation of identity resolution built on DuckDB too, where the
-- Python model is the identity map, so a data test can prove they agree.
{{ config(enabled=target.type == 'duckdb') }}

{{ identity_graph_sql(ref('int_identity_edges')) }}
