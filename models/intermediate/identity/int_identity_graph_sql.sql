-- The SQL implementation of identity resolution built on DuckDB too, where the
-- Python model is the identity map, so a data test can prove they agree. A
-- view: it exists for that test only, so a build computes it when the test
-- runs, and `dbt run` does not compute it at all.
{{ config(enabled=target.type == 'duckdb', materialized='view') }}

{{ identity_graph_sql(ref('int_identity_edges')) }}
