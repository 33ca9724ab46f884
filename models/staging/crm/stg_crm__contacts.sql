-- CRM contacts, latest version per contact_id, emails normalized.
with

source as (

    select * from {{ source('crm', 'crm_contacts') }}

),

parsed as (

    select
        nullif(trim(contact_id), '') as contact_id,
        nullif(trim(account_id), '') as account_id,
        {{ normalize_email('email') }} as email,
        nullif(trim(job_title), '') as job_title,
        lower(trim(lifecycle_status)) as lifecycle_status,
        lower(trim(plan)) as plan,
        {{ parse_timestamp('created_at') }} as created_at,
        {{ parse_timestamp('updated_at') }} as updated_at
    from source

),

latest as (

    select
        *,
        row_number() over (
            partition by contact_id
            order by updated_at desc nulls last, created_at desc nulls last, account_id asc, email asc
        ) as version_rank
    from parsed
    where contact_id is not null

),

final as (

    select
        contact_id,
        account_id,
        email,
        {{ email_domain('email') }} as email_domain,
        job_title,
        lifecycle_status,
        plan,
        created_at,
        updated_at
    from latest
    where version_rank = 1

)

select * from final
