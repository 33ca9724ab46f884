-- Each living person's consent per purpose at the build's as_of, with the
-- region that set the defaults. dim_persons joins this for its consent flags;
-- segment membership requires the segment's purpose here. One flag per
-- purpose of var consent_purposes: a new purpose needs a column here too.
with

intervals as (

    select * from {{ ref('int_consent_intervals') }}

),

regions as (

    select * from {{ ref('int_persons_regions') }}

),

current_intervals as (

    select
        intervals.person_id,
        intervals.purpose,
        intervals.is_granted
    from intervals
    where {{ in_consent_interval(as_of_timestamp(), 'intervals') }}

),

pivoted as (

    select
        person_id,
        {{ dbt.bool_or("purpose = 'analytics' and is_granted") }} as has_analytics_consent,
        {{ dbt.bool_or("purpose = 'personalization' and is_granted") }} as has_personalization_consent,
        {{ dbt.bool_or("purpose = 'marketing' and is_granted") }} as has_marketing_consent,
        {{ dbt.bool_or("purpose = 'advertising' and is_granted") }} as has_advertising_consent
    from current_intervals
    group by person_id

),

final as (

    select
        regions.person_id,
        coalesce(pivoted.has_analytics_consent, false) as has_analytics_consent,
        coalesce(pivoted.has_personalization_consent, false) as has_personalization_consent,
        coalesce(pivoted.has_marketing_consent, false) as has_marketing_consent,
        coalesce(pivoted.has_advertising_consent, false) as has_advertising_consent,
        regions.country_code,
        regions.region,
        regions.is_opt_in_region,
        {{ as_of_timestamp() }} as consent_as_of
    from regions
    left join pivoted on regions.person_id = pivoted.person_id

)

select * from final
