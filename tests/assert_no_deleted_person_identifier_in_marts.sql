-- Right to delete: no text column of any mart (discovered from the graph, so a
-- new mart is covered without editing this test) holds an identifier of a
-- deleted person, in clear or as SHA-256: the identifiers named on deletion
-- requests, every identifier the identity map holds for a deleted person, and
-- the deleted person_ids. The suppression list is the one exception.
-- The depends_on lines only order this test after the marts built here; marts
-- of other domains are found at run time (one not built yet is skipped).
-- depends_on: {{ ref('fct_events') }}
-- depends_on: {{ ref('privacy_suppressions') }}
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
