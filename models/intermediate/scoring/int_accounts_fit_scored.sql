-- ICP fit per account (0-100): per attribute the points of the best matching
-- rule of seeds/icp_rules.csv (text attributes match exactly, case-insensitive;
-- numeric ones within min_value..max_value inclusive), summed, capped at 100.
with

accounts as (

    select * from {{ ref('stg_crm__accounts') }}

),

rules as (

    select * from {{ ref('icp_rules') }}

),

attributes as (

    select
        account_id,
        'industry' as attribute,
        lower(industry) as text_value,
        cast(null as double precision) as number_value
    from accounts
    union all
    select
        account_id,
        'country' as attribute,
        lower(country) as text_value,
        cast(null as double precision) as number_value
    from accounts
    union all
    select
        account_id,
        'employee_count' as attribute,
        cast(null as {{ dbt.type_string() }}) as text_value,
        cast(employee_count as double precision) as number_value
    from accounts
    union all
    select
        account_id,
        'annual_revenue_usd' as attribute,
        cast(null as {{ dbt.type_string() }}) as text_value,
        cast(annual_revenue_usd as double precision) as number_value
    from accounts

),

matched as (

    select
        attributes.account_id,
        attributes.attribute,
        max(rules.points) as points
    from attributes
    inner join rules
        on
            attributes.attribute = rules.attribute
            and (
                attributes.text_value = lower(rules.match_value)
                or (
                    attributes.number_value >= rules.min_value
                    and attributes.number_value <= rules.max_value
                )
            )
    group by attributes.account_id, attributes.attribute

),

summed as (

    select
        account_id,
        sum(points) as points
    from matched
    group by account_id

),

final as (

    select
        accounts.account_id,
        cast(least(coalesce(summed.points, 0), 100) as double precision) as fit_score
    from accounts
    left join summed on accounts.account_id = summed.account_id

)

select * from final
