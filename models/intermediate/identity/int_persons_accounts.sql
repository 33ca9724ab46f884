-- The account of each person that has one: through a CRM contact with one of
-- the person's emails, else through a corporate email domain equal to an
-- account's domain (free-mail domains never match). Conflicts: a CRM match
-- beats a domain match; among CRM matches the most recently updated contact
-- wins, then the smallest account_id; among domain matches the smallest account_id.
with

identity_map as (

    select * from {{ ref('int_identity_graph') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

accounts as (

    select * from {{ ref('stg_crm__accounts') }}

),

free_email_domains as (

    select * from {{ ref('free_email_domains') }}

),

person_emails as (

    select
        person_id,
        identifier_value as email,
        {{ email_domain('identifier_value') }} as email_domain
    from identity_map
    where identifier_type = 'email'

),

crm_matches as (

    select
        person_emails.person_id,
        contacts.account_id,
        'crm_contact' as match_method,
        1 as method_rank,
        contacts.contact_id,
        coalesce(contacts.updated_at, contacts.created_at) as contact_updated_at
    from person_emails
    inner join contacts
        on person_emails.email = contacts.email
    inner join accounts
        on contacts.account_id = accounts.account_id

),

domain_matches as (

    select
        person_emails.person_id,
        accounts.account_id,
        'email_domain' as match_method,
        2 as method_rank,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        cast(null as timestamp) as contact_updated_at
    from person_emails
    inner join accounts
        on person_emails.email_domain = accounts.domain
    where
        person_emails.email_domain not in (
            select lower(trim(domain)) from free_email_domains
            where domain is not null
        )

),

candidates as (

    select * from crm_matches
    union all
    select * from domain_matches

),

candidate_counts as (

    select
        person_id,
        count(distinct account_id) as n_candidate_accounts
    from candidates
    group by person_id

),

ranked as (

    select
        candidates.*,
        candidate_counts.n_candidate_accounts,
        row_number() over (
            partition by candidates.person_id
            order by
                candidates.method_rank asc,
                candidates.contact_updated_at desc nulls last,
                candidates.account_id asc
        ) as candidate_rank
    from candidates
    inner join candidate_counts on candidates.person_id = candidate_counts.person_id

),

final as (

    select
        person_id,
        account_id,
        match_method,
        contact_id,
        cast(n_candidate_accounts as integer) as n_candidate_accounts
    from ranked
    where candidate_rank = 1

)

select * from final
