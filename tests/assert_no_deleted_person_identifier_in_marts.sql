-- Right to delete: no text column of any mart (discovered from the graph, so a
-- new mart is covered without editing this test) holds an identifier of a
-- deleted person, in clear or as SHA-256: the identifiers named on deletion
-- requests, every identifier the identity map holds for a deleted person, and
-- the deleted person_ids. The suppression list is the one exception.
-- The depends_on lines order this test after the contract marts; a mart added
-- later is found at run time all the same (one not built yet is skipped).
-- depends_on: {{ ref('fct_events') }}
-- depends_on: {{ ref('privacy_suppressions') }}
-- depends_on: {{ ref('dim_persons') }}
-- depends_on: {{ ref('dim_accounts') }}
-- depends_on: {{ ref('dim_person_identifiers') }}
-- depends_on: {{ ref('dim_segments') }}
-- depends_on: {{ ref('fct_segment_membership') }}
-- depends_on: {{ ref('fct_segment_membership_changes') }}
-- Marts are found at run time; with none built yet (e.g. when linting) the
-- scan reads no CTE.
-- noqa: disable=ST03
{%- set marts = mart_text_columns(skip_suppression_list=true) %}

with

requests as (

    select * from {{ ref('stg_privacy__deletion_requests') }}

),

deleted_persons as (

    select * from {{ ref('int_deleted_persons') }}

),

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

clear_values as (

    select user_id as identifier_value from requests
    where user_id is not null
    union all
    select email as identifier_value from requests
    where email is not null
    union all
    select anonymous_id as identifier_value from requests
    where anonymous_id is not null
    union all
    select identifiers.identifier_value
    from identifiers
    inner join deleted_persons on identifiers.person_id = deleted_persons.person_id
    union all
    select person_id as identifier_value from deleted_persons

),

forbidden_values as (

    select identifier_value as forbidden_value from clear_values
    union
    select {{ sha256_hex('identifier_value') }} as forbidden_value from clear_values

),

found as (

    {{ scan_mart_text_columns(marts, '{column} in (select forbidden_value from forbidden_values)') }}

),

final as (

    select * from found

)

select * from final
