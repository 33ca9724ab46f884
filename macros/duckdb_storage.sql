{#- DuckDB storage: columns written without compression.

    DuckDB analyses every column segment it writes to choose a compression;
    for a column of near-unique text (message ids, person ids) the dictionary
    analysis hashes every value and then stores it uncompressed anyway. A
    model lists such columns in its config:

        config(uncompressed_columns=['message_id', 'anonymous_id'])

    and its table is then created with the column types of its query and
    `using compression uncompressed` on those columns, then filled by one
    insert. The setting stays with the table, so the rows that incremental
    builds insert later skip the analysis too. Same rows and types; at 10M
    events the same size on disk, and writing int_events_resolved_stored took
    6.3 s instead of 8.4 s with event_id and person_id listed
    (docs/benchmark.md). A small warehouse grows a little: at 100k events
    DuckDB would have used a dictionary for some of these columns. Other
    targets ignore the config; temporary tables, contract-enforced and Python
    models take dbt-duckdb's own path. -#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- set uncompressed = config.get('uncompressed_columns') or [] -%}
    {%- set contract_config = config.get('contract') -%}
    {%- if language != 'sql' or temporary or not uncompressed or partitioned_by or sorted_by
        or (contract_config and contract_config.enforced) -%}
        {{ return(dbt.duckdb__create_table_as(
            temporary, relation, compiled_code, language,
            partitioned_by=partitioned_by, sorted_by=sorted_by)) }}
    {%- endif -%}
    {%- set columns = get_column_schema_from_query(compiled_code) -%}
    {%- set names = columns | map(attribute='name') | map('lower') | list -%}
    {%- for name in uncompressed if name | lower not in names -%}
        {%- do exceptions.raise_compiler_error(
            "uncompressed_columns of " ~ model.name ~ " names " ~ name
            ~ ", which its query does not return (columns: " ~ names | join(', ') ~ ")") -%}
    {%- endfor -%}
    {%- set listed = uncompressed | map('lower') | list -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    create table {{ relation }} (
        {%- for column in columns %}
        {{ adapter.quote(column.name) }} {{ column.dtype }}
        {%- if column.name | lower in listed %} using compression uncompressed{% endif %}
        {{- ',' if not loop.last }}
        {%- endfor %}
    );
    insert into {{ relation }}
    select * from (
        {{ compiled_code }}
    ) as model_subq;
{%- endmacro %}
