-- Per membership the log alternates: sequence 1, 2, 3, ... without gaps,
-- odd = entered, even = exited.
with

changes as (

    select * from {{ ref('fct_segment_membership_changes') }}

),

numbered as (

    select
        membership_id,
        change_type,
        change_sequence,
        row_number() over (partition by membership_id order by change_sequence) as position
    from changes

),

final as (

    select *
    from numbered
    where
        change_sequence != position
        or (mod(change_sequence, 2) = 1 and change_type != 'entered')
        or (mod(change_sequence, 2) = 0 and change_type != 'exited')

)

select * from final
