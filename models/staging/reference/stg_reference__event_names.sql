-- Every name an event may arrive under (the canonical name and each alias),
-- normalized the way raw names are, mapped to the canonical taxonomy entry.
{%- set max_aliases = 12 %}

with

taxonomy as (

    select * from {{ ref('event_taxonomy') }}

),

alias_positions as (

    {{ integer_rows(max_aliases, 'alias_position') }}

),

aliases as (

    select
        taxonomy.event_name,
        trim({{ split_part_at('taxonomy.aliases', "'|'", 'alias_positions.alias_position') }}) as name_as_sent
    from taxonomy
    cross join alias_positions
    where taxonomy.aliases is not null

),

names as (

    select
        event_name,
        event_name as name_as_sent
    from taxonomy

    union all

    select
        event_name,
        name_as_sent
    from aliases
    where name_as_sent != ''

),

final as (

    select distinct
        {{ normalize_event_name('names.name_as_sent') }} as normalized_name,
        taxonomy.event_name,
        taxonomy.category as event_category,
        taxonomy.score_category,
        taxonomy.consent_purpose
    from names
    inner join taxonomy on names.event_name = taxonomy.event_name

)

select * from final
