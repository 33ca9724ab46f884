{#- Incremental event resolution (int_events_resolved_stored).

    An event is resolved through its resolution key, the strongest identifier it
    carries (user_id, else email, else anonymous_id): the identity map gives
    every identifier one person, so the key decides the event's person. What a
    stored event row depends on besides the event itself (its person, the
    person's account, deletion and consent intervals) is summarized per key in
    a state hash. Each build writes the current key states to
    `<model>__key_states__next` (pre-hook) and, once the model is written,
    renames them to `<model>__key_states` (post-hook). An incremental build
    re-resolves the events received on or after reprocessed_from_day (the new
    and late ones) plus every event whose key state differs from the stored
    snapshot, and nothing else. A missing snapshot re-resolves everything. -#}

{#- The resolution key of a row carrying user_id, email and anonymous_id. -#}
{% macro resolution_key_type(row_alias) -%}
    case
        when {{ row_alias }}.user_id is not null then 'user_id'
        when {{ row_alias }}.email is not null then 'email'
        when {{ row_alias }}.anonymous_id is not null then 'anonymous_id'
    end
{%- endmacro %}

{% macro resolution_key_value(row_alias) -%}
    coalesce({{ row_alias }}.user_id, {{ row_alias }}.email, {{ row_alias }}.anonymous_id)
{%- endmacro %}

{#- The key-state snapshot of the current model (suffix '__next': this build's). -#}
{% macro resolution_states_relation(suffix='') -%}
    {{ return(api.Relation.create(
        database=this.database, schema=this.schema, identifier=this.identifier ~ '__key_states' ~ suffix
    )) }}
{%- endmacro %}

{#- Every identifier's state: a hash of its person, the person's account,
    deletion and consent intervals (all purposes). -#}
{% macro resolution_states_sql() -%}
    with

    person_consent as (

        select
            person_id,
            md5(string_agg(
                {{ md5_key(['purpose', 'valid_from', 'valid_to', 'is_granted']) }}, ','
                order by purpose, valid_from
            )) as consent_hash
        from {{ ref('int_consent_intervals') }}
        group by person_id

    )

    select
        identifiers.identifier_type as key_type,
        identifiers.identifier_value as key_value,
        {{ md5_key([
            'identifiers.person_id', 'accounts.account_id',
            'deleted_persons.person_id', 'person_consent.consent_hash',
        ]) }} as state_hash
    from {{ ref('int_person_identifiers') }} as identifiers
    left join {{ ref('int_persons_accounts') }} as accounts
        on identifiers.person_id = accounts.person_id
    left join {{ ref('int_deleted_persons') }} as deleted_persons
        on identifiers.person_id = deleted_persons.person_id
    left join person_consent
        on identifiers.person_id = person_consent.person_id
{%- endmacro %}

{#- True when the model's key-state snapshot exists (an incremental build
    without one re-resolves every event). -#}
{% macro resolution_states_exist() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set relation = resolution_states_relation() -%}
    {{ return(adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none) }}
{%- endmacro %}

{#- Hook statements of int_events_resolved_stored, by name (the model's config
    lists them as "{{ resolution_hook('...') }}" so they render at run time). -#}
{% macro resolution_hook(name) -%}
    {%- set states = resolution_states_relation() -%}
    {%- set next_states = resolution_states_relation('__next') -%}
    {%- if name == 'drop_next_states' -%}
        drop table if exists {{ next_states }}
    {%- elif name == 'write_next_states' -%}
        create table {{ next_states }} as {{ resolution_states_sql() }}
    {%- elif name == 'delete_reprocessed_days' -%}
        {%- if is_incremental() %}
        delete from {{ this }} where received_day >= {{ date_literal(reprocessed_from_day_text()) }}
        {%- endif -%}
    {%- elif name == 'drop_states' -%}
        drop table if exists {{ states }}
    {%- elif name == 'promote_next_states' -%}
        alter table {{ next_states }} rename to {{ adapter.quote(states.identifier) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error('unknown resolution hook ' ~ name) }}
    {%- endif -%}
{%- endmacro %}
