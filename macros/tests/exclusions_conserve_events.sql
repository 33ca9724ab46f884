{#- Nothing is lost silently: the accepted events equal the kept events plus the
    excluded ones counted (column event_count) in the tested audit model. -#}
{% test exclusions_conserve_events(model, accepted, kept) %}

with

counts as (

    select
        (select count(*) from {{ accepted }}) as accepted_events,
        (select count(*) from {{ kept }}) as kept_events,
        (select sum(event_count) from {{ model }}) as excluded_events

),

final as (

    select * from counts
    where accepted_events != kept_events + coalesce(excluded_events, 0)

)

select * from final

{% endtest %}
