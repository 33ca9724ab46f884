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

{#- DuckDB storage: text from a closed list stored as an enum.

    A text column of the two 10M-row tables (the events classifier and
    int_events_resolved_stored) whose values come from a short list known
    when the model compiles (taxonomy names and categories, exclusion rules,
    the classification version) costs DuckDB 0.5-0.7 s per 10M rows to write
    (it hashes every value to build its dictionaries); an ENUM of the same
    values about 0.2 s, and a full `dbt run` at 10M events takes ~3 s less
    (docs/benchmark.md). The values are listed sorted, so the enum orders
    like the text; comparisons and joins with text work unchanged, and the
    views on top give text back (stored_enum_text), so no model or user sees
    an enum. A value outside the list cannot be written (DuckDB raises a
    conversion error): `values` must come from where the expression's values
    come from. Without values (parsing, a unit test's fixture, a value with
    a quote) the expression stays text; other targets store text. A changed
    list changes the column type: an incremental build then stops
    (on_schema_change='fail'), as it does for a changed taxonomy
    (classification_version), until `dbt build --full-refresh`. -#}
{% macro stored_enum(expression, values) -%}
    {{ return(adapter.dispatch('stored_enum', 'behavioral_segmentation')(expression, values)) }}
{%- endmacro %}

{% macro default__stored_enum(expression, values) -%}
    {{ return(expression) }}
{%- endmacro %}

{% macro duckdb__stored_enum(expression, values) -%}
    {%- set listed = (values or []) | reject('none') | map('string') | unique | sort | list -%}
    {%- for value in listed if "'" in value or "\\" in value -%}
        {{ return(expression) }}
    {%- endfor -%}
    {%- if not listed -%}
        {{ return(expression) }}
    {%- endif -%}
    {{ return('cast(' ~ expression ~ " as enum('" ~ listed | join("', '") ~ "'))") }}
{%- endmacro %}

{#- Part of the classification version of the events classifier: a table
    stored before its taxonomy columns were enums stops an incremental build
    with the message to rebuild it (assert_classification_version) instead of
    dbt's schema mismatch. Nothing on targets that store text. -#}
{% macro enum_storage_tags() -%}
    {{ return(adapter.dispatch('enum_storage_tags', 'behavioral_segmentation')()) }}
{%- endmacro %}

{% macro default__enum_storage_tags() -%}
    {{ return([]) }}
{%- endmacro %}

{% macro duckdb__enum_storage_tags() -%}
    {{ return(['taxonomy columns, version: enums']) }}
{%- endmacro %}

{#- A column stored by stored_enum, as text (for the views on top). -#}
{% macro stored_enum_text(column) -%}
    {{ return(adapter.dispatch('stored_enum_text', 'behavioral_segmentation')(column)) }}
{%- endmacro %}

{% macro default__stored_enum_text(column) -%}
    {{ return(column) }}
{%- endmacro %}

{% macro duckdb__stored_enum_text(column) -%}
    {{ return('cast(' ~ column ~ ' as varchar)') }}
{%- endmacro %}

{#- The values of the taxonomy columns an event can be classified with:
    {'event_name': [...], 'event_category': [...], 'score_category': [...],
    'consent_purpose': [...]}, read from stg_reference__event_names (the
    relation the events classifier joins) when the model compiles, by
    seed_rows; {} while parsing, before it exists, or when it is a unit
    test's fixture. -#}
{% macro event_taxonomy_values() -%}
    {#- ref() outside seed_rows' guards, so that a model calling this depends
        on the relation from parsing on (a `depends_on` comment instead would
        make every unit test of the model give it as an input). -#}
    {%- do ref('stg_reference__event_names') -%}
    {%- set columns = ['event_name', 'event_category', 'score_category', 'consent_purpose'] -%}
    {%- set rows = seed_rows('stg_reference__event_names', columns) -%}
    {%- set values = {} -%}
    {%- for column in columns if rows -%}
        {%- do values.update({column: rows | map(attribute=loop.index0) | reject('none') | unique | list}) -%}
    {%- endfor -%}
    {{ return(values) }}
{%- endmacro %}
