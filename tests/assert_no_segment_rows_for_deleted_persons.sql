-- Right to delete: no membership or history row names a deleted person.
with

deleted as (

    select * from {{ ref('int_deleted_persons') }}

),

membership as (

    select member_id from {{ ref('fct_segment_membership') }}
    where member_type = 'person'

),

changes as (

    select member_id from {{ ref('fct_segment_membership_changes') }}
    where member_type = 'person'

),

final as (

    select
        'fct_segment_membership' as relation,
        member_id
    from membership
    where member_id in (select person_id from deleted)
    union all
    select
        'fct_segment_membership_changes' as relation,
        member_id
    from changes
    where member_id in (select person_id from deleted)

)

select * from final
