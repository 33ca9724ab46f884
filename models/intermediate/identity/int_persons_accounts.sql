-- INTERIM (replaced by identity resolution, issue 3): each person's account,
-- through a CRM contact with the person's email, else a corporate email domain
-- matching an account domain.
with

person_emails as (

    select person_id, identifier_value as email
    from {{ ref('int_person_identifiers') }}
    where identifier_type = 'email'

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

accounts as (

    select * from {{ ref('stg_crm__accounts') }}

),

free_mail as (

    select * from {{ ref('free_email_domains') }}

),

candidates as (

    select person_emails.person_id, contacts.account_id, 1 as match_priority, 'crm_contact' as account_match_method
    from person_emails
    inner join contacts on person_emails.email = contacts.email
    where contacts.account_id is not null
    union all
    select person_emails.person_id, accounts.account_id, 2 as match_priority, 'email_domain' as account_match_method
    from person_emails
    inner join accounts on {{ email_domain('person_emails.email') }} = accounts.domain
    where {{ email_domain('person_emails.email') }} not in (select domain from free_mail)

),

ranked as (

    select
        *,
        row_number() over (partition by person_id order by match_priority asc, account_id asc) as match_rank
    from candidates

),

persons as (

    select distinct person_id from {{ ref('int_person_identifiers') }}

),

final as (

    select
        persons.person_id,
        ranked.account_id,
        ranked.account_match_method
    from persons
    left join ranked on persons.person_id = ranked.person_id and ranked.match_rank = 1

)

select * from final
