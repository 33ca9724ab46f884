-- The consent region of every living person. Country: that of the person's
-- latest consent event carrying one (the CMP geolocates the banner it shows),
-- else the most frequent context_country of the person's events (ties: the
-- alphabetically first). A country missing from the seed
-- consent_region_defaults, or no country at all, is no identifiable region:
-- the strictest default (opt-in) applies.
with

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

consent_events as (

    select * from {{ ref('int_consent_events_resolved') }}

),

event_country_tuples as (

    select
        user_id,
        email,
        anonymous_id,
        country,
        events_to_as_of as event_count
    from {{ ref('int_events_identifier_tuples') }}
    where country is not null and country != '' and events_to_as_of > 0

),

region_defaults as (

    select * from {{ ref('consent_region_defaults') }}

),

persons as (

    select distinct person_id
    from identifiers
    where {{ is_not_deleted_person('identifiers.person_id') }}

),

consent_countries as (

    select
        person_id,
        country,
        row_number() over (
            partition by person_id
            order by occurred_at desc, message_id asc
        ) as country_rank
    from consent_events
    where country is not null and country != ''

),

event_countries as (

    select
        {{ resolved_person_id() }} as person_id,
        event_country_tuples.country,
        event_country_tuples.event_count
    from event_country_tuples
    {{ join_person_identifiers('event_country_tuples') }}

),

event_country_counts as (

    select
        person_id,
        country,
        sum(event_count) as event_count
    from event_countries
    where person_id is not null
    group by person_id, country

),

event_countries_ranked as (

    select
        person_id,
        country,
        row_number() over (
            partition by person_id
            order by event_count desc, country asc
        ) as country_rank
    from event_country_counts

),

joined as (

    select
        persons.person_id,
        coalesce(consent_countries.country, event_countries_ranked.country) as country_code,
        case
            when consent_countries.country is not null then 'consent_event'
            when event_countries_ranked.country is not null then 'event_context'
            else 'unknown'
        end as country_source
    from persons
    left join consent_countries
        on
            persons.person_id = consent_countries.person_id
            and consent_countries.country_rank = 1
    left join event_countries_ranked
        on
            persons.person_id = event_countries_ranked.person_id
            and event_countries_ranked.country_rank = 1

),

final as (

    select
        joined.person_id,
        joined.country_code,
        joined.country_source,
        region_defaults.region,
        coalesce(region_defaults.is_opt_in, true) as is_opt_in_region,
        region_defaults.country_code is null as is_region_unknown
    from joined
    left join region_defaults on joined.country_code = region_defaults.country_code

)

select * from final
