-- Emails leave the warehouse only as SHA-256: no text column of any mart
-- (discovered from the graph, the suppression list included) holds anything
-- that looks like an email address, anywhere in the value (JSON included).
-- depends_on: {{ ref('fct_events') }}
-- depends_on: {{ ref('privacy_suppressions') }}
-- depends_on: {{ ref('dim_persons') }}
-- depends_on: {{ ref('dim_accounts') }}
-- depends_on: {{ ref('dim_person_identifiers') }}
-- depends_on: {{ ref('dim_segments') }}
-- depends_on: {{ ref('fct_segment_membership') }}
-- depends_on: {{ ref('fct_segment_membership_changes') }}
{%- set marts = mart_text_columns(skip_suppression_list=false) %}
{%- set email_like = "'[^@[:space:]\"]+@[^@[:space:]\"]+[.][A-Za-z]{2,}'" %}

with

found as (

    {{ scan_mart_text_columns(marts, regex_matches('{column}', email_like)) }}

),

final as (

    select * from found

)

select * from final
