{#- Event names are canonical taxonomy names written Object_Action
    (capitalized words joined by underscores). Fails on every other value. -#}
{% test event_name_in_taxonomy(model, column_name, taxonomy) %}

with

names as (

    select distinct {{ column_name }} as event_name from {{ model }}

),

final as (

    select names.event_name
    from names
    left join {{ taxonomy }} as taxonomy on names.event_name = taxonomy.event_name
    where names.event_name is null
        or taxonomy.event_name is null
        or not {{ regex_matches('names.event_name', "'^[A-Z][A-Za-z0-9]*(_[A-Z][A-Za-z0-9]*)+$'") }}

)

select * from final

{% endtest %}

{#- Every row carries, in its JSON `properties_column`, a non-empty value for each
    property the taxonomy requires for its event. Written as a join over the
    taxonomy's property list, independently of the staging filter it checks. -#}
{% test required_properties_present(model, column_name, properties_column, taxonomy) %}
{%- set max_properties = 8 %}

with

positions as (

    {{ integer_rows(max_properties, 'property_position') }}

),

required as (

    select
        taxonomy.event_name,
        {{ split_part_at('taxonomy.required_properties', "'|'", 'positions.property_position') }} as property_key
    from {{ taxonomy }} as taxonomy
    cross join positions
    where taxonomy.required_properties is not null

),

final as (

    select
        events.{{ column_name }} as event_name,
        required.property_key
    from {{ model }} as events
    inner join required
        on events.{{ column_name }} = required.event_name
        and required.property_key != ''
    where coalesce(trim({{ json_text('events.' ~ properties_column, 'required.property_key') }}), '') = ''

)

select * from final

{% endtest %}

{#- Counts are conserved: the rows of the tested relation (a raw table) equal the
    sum of the rows of `parts` (e.g. the accepted and the rejected model). -#}
{% test row_count_conserved(model, parts) %}

with

raw_count as (

    select count(*) as row_count from {{ model }}

),

part_counts as (

    {%- for part in parts %}
    select count(*) as row_count from {{ part }}
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}

),

final as (

    select
        raw_count.row_count as raw_rows,
        (select sum(row_count) from part_counts) as part_rows
    from raw_count
    where raw_count.row_count != (select sum(row_count) from part_counts)

)

select * from final

{% endtest %}
