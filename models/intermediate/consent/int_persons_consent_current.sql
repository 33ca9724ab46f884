-- Each living person's consent per purpose at the build's as_of, with the
-- region that set the defaults. dim_persons joins this for its consent flags;
-- segment membership requires the segment's purpose here.
{%- set purposes = var('consent_purposes') %}

with

intervals as (

    select * from {{ ref('int_consent_intervals') }}

),

regions as (

    select * from {{ ref('int_persons_regions') }}

),

current_intervals as (

    select
        person_id,
        purpose,
        is_granted
    from intervals
    where {{ in_consent_interval(as_of_timestamp(), 'intervals') }}

),

pivoted as (

    select
        person_id,
        {%- for purpose in purposes %}
        coalesce({{ dbt.bool_or("purpose = '" ~ purpose ~ "' and is_granted") }}, false) as has_{{ purpose }}_consent
        {{- "," if not loop.last }}
        {%- endfor %}
    from current_intervals
    group by person_id

),

final as (

    select
        regions.person_id,
        {%- for purpose in purposes %}
        coalesce(pivoted.has_{{ purpose }}_consent, false) as has_{{ purpose }}_consent,
        {%- endfor %}
        regions.country_code,
        regions.region,
        regions.is_opt_in_region,
        {{ as_of_timestamp() }} as consent_as_of
    from regions
    left join pivoted on regions.person_id = pivoted.person_id

)

select * from final
