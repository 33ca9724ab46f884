-- Consent state of every living person for every purpose (var consent_purposes)
-- as half-open intervals [valid_from, valid_to) that cover time without gaps
-- or overlaps: the first starts at the epoch (1970-01-01) with the regional
-- default, each consent event starts a new one, the last has valid_to NULL.
--
-- Rules (DESIGN.md section 3):
-- * The latest consent event at or before t, across all the person's
--   identifiers, decides. Several events of one person and purpose at the same
--   timestamp: the most restrictive status wins (withdrawn, then denied, then
--   granted), then the smallest message_id.
-- * Before any event the default applies: denied in opt-in regions (and when
--   the region is unknown), granted elsewhere.
-- * A GPC signal (a consent event with source gpc) is an advertising opt-out
--   from its time on, whatever purpose it was recorded under; a later explicit
--   advertising grant overrides it.
{%- set purposes = var('consent_purposes') %}

with

consent_events as (

    select * from {{ ref('int_consent_events_resolved') }}

),

regions as (

    select * from {{ ref('int_persons_regions') }}

),

purposes as (

    {{ literal_rows('purpose', purposes) }}

),

defaults as (

    select
        regions.person_id,
        purposes.purpose,
        {{ consent_epoch() }} as valid_from,
        not regions.is_opt_in_region as is_granted,
        cast(null as {{ dbt.type_string() }}) as consent_status,
        'default' as basis,
        cast(null as {{ dbt.type_string() }}) as message_id,
        2 as basis_rank
    from regions
    cross join purposes

),

explicit_changes as (

    select
        person_id,
        purpose,
        occurred_at,
        status as consent_status,
        'event' as basis,
        message_id
    from consent_events
    where purpose in (select purpose from purposes)

),

gpc_changes as (

    select
        person_id,
        'advertising' as purpose,
        occurred_at,
        'denied' as consent_status,
        'gpc' as basis,
        message_id
    from consent_events
    where
        is_gpc_signal
        and purpose != 'advertising'
        and 'advertising' in (select purpose from purposes)

),

changes as (

    select
        person_id,
        purpose,
        -- an event dated before the epoch counts from the epoch (and then beats the default)
        case when occurred_at < {{ consent_epoch() }} then {{ consent_epoch() }} else occurred_at end as valid_from,
        consent_status = 'granted' as is_granted,
        consent_status,
        basis,
        message_id,
        1 as basis_rank
    from explicit_changes
    union all
    select
        person_id,
        purpose,
        case when occurred_at < {{ consent_epoch() }} then {{ consent_epoch() }} else occurred_at end as valid_from,
        false as is_granted,
        consent_status,
        basis,
        message_id,
        1 as basis_rank
    from gpc_changes

),

candidates as (

    select * from defaults
    union all
    select * from changes

),

ranked as (

    select
        *,
        row_number() over (
            partition by person_id, purpose, valid_from
            order by basis_rank asc, {{ consent_status_rank('consent_status') }} asc, message_id asc
        ) as tie_rank
    from candidates

),

winners as (

    select * from ranked
    where tie_rank = 1

),

intervals as (

    select
        person_id,
        purpose,
        valid_from,
        is_granted,
        consent_status,
        basis,
        message_id,
        lead(valid_from) over (partition by person_id, purpose order by valid_from) as valid_to
    from winners

),

final as (

    select
        {{ dbt.hash("person_id || '|' || purpose || '|' || " ~ dbt.cast('valid_from', dbt.type_string())) }}
            as consent_interval_id,
        person_id,
        purpose,
        valid_from,
        valid_to,
        is_granted,
        consent_status,
        basis,
        message_id as source_message_id,
        valid_to is null as is_latest
    from intervals

)

select * from final
