{#- Validity intervals [from_column, to_column) of each partition (e.g. a person
    and a purpose) cover time from `start` on without gaps or overlaps: the first
    starts at `start`, each ends where the next starts, every interval is
    non-empty, and exactly the last one is open-ended (to_column NULL).
    Fails with one row per broken partition and the reason. -#}
{% test intervals_cover_time(model, partition_by, from_column, to_column, start) %}

with

ordered as (

    select
        {{ partition_by | join(', ') }},
        {{ from_column }} as valid_from,
        {{ to_column }} as valid_to,
        lead({{ from_column }}) over (
            partition by {{ partition_by | join(', ') }} order by {{ from_column }}
        ) as next_valid_from,
        row_number() over (
            partition by {{ partition_by | join(', ') }} order by {{ from_column }}
        ) as interval_position
    from {{ model }}

),

problems as (

    select
        {{ partition_by | join(', ') }},
        case
            when interval_position = 1 and valid_from != {{ start }} then 'does_not_start_at_start'
            when valid_to is null and next_valid_from is not null then 'open_interval_not_last'
            when valid_to is not null and next_valid_from is null then 'last_interval_not_open'
            when valid_to < next_valid_from then 'gap'
            when valid_to > next_valid_from then 'overlap'
            when valid_to <= valid_from then 'empty_interval'
            when next_valid_from = valid_from then 'duplicate_start'
        end as problem
    from ordered

),

final as (

    select * from problems
    where problem is not null

)

select * from final

{% endtest %}
