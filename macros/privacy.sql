{#- Helpers of the privacy tests that scan every mart. -#}

{#- The built mart relations with their text columns, discovered from the graph
    at execution time (models whose fqn contains 'marts' or whose schema is
    marts), so a new mart is covered without editing any test. Marts flagged
    `meta: {privacy_role: suppression_list}` are skipped when `skip_suppression_list`
    (the suppression list holds hashed identifiers of deleted persons by design).
    A mart not built yet (e.g. not selected) is skipped. Returns a list of
    {name, relation, columns}. -#}
{% macro mart_text_columns(skip_suppression_list=true) -%}
    {%- set marts = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model'
            and ('marts' in node.fqn or node.schema == 'marts')
            and node.config.enabled -%}
            {%- set meta = node.config.get('meta', {}) or {} -%}
            {%- if not (skip_suppression_list and meta.get('privacy_role') == 'suppression_list') -%}
                {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
                {%- if relation is not none -%}
                    {%- set columns = [] -%}
                    {%- for column in adapter.get_columns_in_relation(relation) if column.is_string() -%}
                        {%- do columns.append(column.name) -%}
                    {%- endfor -%}
                    {%- do marts.append({'name': node.name, 'relation': relation, 'columns': columns}) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(marts) }}
{%- endmacro %}

{#- One `select` per (mart, text column) returning the mart name, column name and
    the offending value for rows where `condition` (a template with `{column}`)
    holds, joined with `union all`; a query returning nothing when there are no
    text columns at all. -#}
{% macro scan_mart_text_columns(marts, condition, value_limit=5) -%}
    {%- set selects = [] -%}
    {%- for mart in marts -%}
        {%- for column in mart.columns -%}
            {%- set quoted = adapter.quote(column) -%}
            {%- do selects.append(
                "select '" ~ mart.name ~ "' as mart_name, '" ~ column ~ "' as column_name, "
                ~ "cast(" ~ quoted ~ " as " ~ dbt.type_string() ~ ") as found_value "
                ~ "from " ~ mart.relation ~ " where " ~ condition.replace('{column}', quoted)
            ) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if selects -%}
        {{ selects | join('\n    union all\n    ') }}
    {%- else -%}
        select
            cast(null as {{ dbt.type_string() }}) as mart_name,
            cast(null as {{ dbt.type_string() }}) as column_name,
            cast(null as {{ dbt.type_string() }}) as found_value
        where 1 = 0
    {%- endif -%}
{%- endmacro %}
