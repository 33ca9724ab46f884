-- CRM accounts, latest version per account_id, domains normalized for matching.
with

source as (

    select * from {{ source('crm', 'crm_accounts') }}

),

parsed as (

    select
        nullif(trim(account_id), '') as account_id,
        nullif(trim(name), '') as account_name,
        {{ normalize_domain('domain') }} as domain,
        nullif(trim(industry), '') as industry,
        {{ parse_number('employee_count', 'integer') }} as employee_count,
        {{ parse_number('annual_revenue_usd', 'bigint') }} as annual_revenue_usd,
        upper(trim(country)) as country,
        {{ parse_timestamp('updated_at') }} as updated_at
    from source

),

latest as (

    select
        *,
        row_number() over (
            partition by account_id
            order by updated_at desc nulls last, account_name asc, domain asc
        ) as version_rank
    from parsed
    where account_id is not null

),

final as (

    select
        account_id,
        account_name,
        domain,
        industry,
        employee_count,
        annual_revenue_usd,
        country,
        updated_at
    from latest
    where version_rank = 1

)

select * from final
