{#- Attach to fct_segment_membership: no current member lacks, at the build's
    as_of, the consent purpose its segment requires
    (dim_segments.required_consent_purpose). Checked against the consent
    intervals (not against int_persons_consent_current, which membership is
    expected to use). Person members must hold the purpose themselves; account
    members (when `check_accounts`) need at least one living person of the
    account holding it. Assumed columns: the tested model has segment_id,
    member_type ('person' | 'account'), `person_column` and `account_column`;
    `segments` has segment_id and required_consent_purpose. -#}
{% test members_hold_required_purpose(
    model, segments, person_column='person_id', account_column='account_id', check_accounts=false
) %}

with

members as (

    select * from {{ model }}

),

segments as (

    select segment_id, required_consent_purpose from {{ segments }}

),

holders as (

    select
        intervals.person_id,
        intervals.purpose,
        accounts.account_id
    from {{ ref('int_consent_intervals') }} as intervals
    left join {{ ref('int_persons_accounts') }} as accounts on intervals.person_id = accounts.person_id
    where intervals.is_granted
        and {{ in_consent_interval(as_of_timestamp(), 'intervals') }}

),

person_violations as (

    select
        members.segment_id,
        members.member_type,
        cast(members.{{ person_column }} as {{ dbt.type_string() }}) as member_id,
        segments.required_consent_purpose
    from members
    inner join segments on members.segment_id = segments.segment_id
    where members.member_type = 'person'
        and segments.required_consent_purpose is not null
        and not exists (
            select 1 from holders
            where holders.person_id = members.{{ person_column }}
                and holders.purpose = segments.required_consent_purpose
        )

),

account_violations as (

    select
        members.segment_id,
        members.member_type,
        cast(members.{{ account_column }} as {{ dbt.type_string() }}) as member_id,
        segments.required_consent_purpose
    from members
    inner join segments on members.segment_id = segments.segment_id
    where {{ 'true' if check_accounts else 'false' }}
        and members.member_type = 'account'
        and segments.required_consent_purpose is not null
        and not exists (
            select 1 from holders
            where holders.account_id = members.{{ account_column }}
                and holders.purpose = segments.required_consent_purpose
        )

),

final as (

    select * from person_violations
    union all
    select * from account_violations

)

select * from final

{% endtest %}
