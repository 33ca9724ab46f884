{#- Incremental event resolution (int_events_resolved_stored).

    An event is resolved through its resolution key, the strongest identifier it
    carries (user_id, else email, else anonymous_id): the identity map gives
    every identifier one person, so the key decides the event's person. What a
    stored event row depends on besides the event itself (its person, the
    person's account, deletion and consent intervals) is summarized per key in
    a state hash. Each build writes the current key states to
    `<model>__key_states__next` (pre-hook) and, once the model is written,
    renames them to `<model>__key_states` (post-hook). Beside them the rows
    the events classifier holds per received day are kept the same way
    (`<model>__day_states`): the classifier rewrites a received day only when
    it gained raw rows, so the first day whose count differs from the snapshot
    is the first one it rewrote. An incremental build re-resolves the events
    received on or after that day (`resolution_from_day_text`: the new and
    late ones) plus every event whose key state differs from the stored
    snapshot, and nothing else. A missing key snapshot re-resolves everything;
    a missing day snapshot re-resolves the classifier's lookback window. -#}

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

{#- A state snapshot of the current model: kind 'key' or 'day' (suffix
    '__next': this build's). -#}
{% macro resolution_states_relation(suffix='', kind='key') -%}
    {{ return(api.Relation.create(
        database=this.database, schema=this.schema,
        identifier=this.identifier ~ '__' ~ kind ~ '_states' ~ suffix
    )) }}
{%- endmacro %}

{#- Rows of the events classifier per received day (the day snapshot). -#}
{% macro resolution_day_states_sql() -%}
    {{ day_counts_sql(ref('base_tracking__events_classified'), 'received_day') }}
{%- endmacro %}

{#- The first received day an incremental build of the model re-resolves, as
    'YYYY-MM-DD' text: the first day whose classifier row count differs from
    the day snapshot ('9999-12-31' when none does; the lookback window's
    first day, lookback_start_day_text, without a snapshot). Runs one query;
    the same before and during the pre-hooks (the snapshot is replaced by the
    post-hook). -#}
{% macro resolution_from_day_text() -%}
    {%- if execute and is_incremental() and resolution_states_exist('day') -%}
        {%- set found = run_query(first_changed_day_sql(
            resolution_day_states_sql(),
            'select * from ' ~ resolution_states_relation(kind='day')
        )) -%}
        {{ return((found.rows[0][0] | string)[:10]) }}
    {%- endif -%}
    {{ return(lookback_start_day_text()) }}
{%- endmacro %}

{#- Every identifier's state: a hash of its person, the person's account,
    deletion and consent intervals (all purposes). -#}
{% macro resolution_states_sql() -%}
    with

    person_consent as (

        select
            person_id,
            {{ set_hash(['purpose', 'valid_from', 'valid_to', 'is_granted']) }} as consent_hash
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

{#- True when the model's state snapshot of `kind` exists. -#}
{% macro resolution_states_exist(kind='key') -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set relation = resolution_states_relation(kind=kind) -%}
    {{ return(adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none) }}
{%- endmacro %}

{#- Hook statements of int_events_resolved_stored, by name (the model's config
    lists them as "{{ resolution_hook('...') }}" so they render at run time). -#}
{% macro resolution_hook(name) -%}
    {%- set kinds = {'key': resolution_states_sql, 'day': resolution_day_states_sql} -%}
    {%- if name == 'drop_next_states' -%}
        {%- for kind in kinds %}
        drop table if exists {{ resolution_states_relation('__next', kind) }};
        {%- endfor %}
    {%- elif name == 'write_next_states' -%}
        {%- for kind, states_sql in kinds.items() %}
        create table {{ resolution_states_relation('__next', kind) }} as {{ states_sql() }};
        {%- endfor %}
    {%- elif name == 'delete_reprocessed_days' -%}
        {%- if is_incremental() %}
        delete from {{ this }} where received_day >= {{ date_literal(resolution_from_day_text()) }}
        {%- endif -%}
    {%- elif name == 'drop_states' -%}
        {%- for kind in kinds %}
        drop table if exists {{ resolution_states_relation(kind=kind) }};
        {%- endfor %}
    {%- elif name == 'promote_next_states' -%}
        {%- for kind in kinds %}
        alter table {{ resolution_states_relation('__next', kind) }}
        rename to {{ adapter.quote(resolution_states_relation(kind=kind).identifier) }};
        {%- endfor %}
    {%- else -%}
        {{ exceptions.raise_compiler_error('unknown resolution hook ' ~ name) }}
    {%- endif -%}
{%- endmacro %}

{#- How an incremental build of int_events_resolved_stored picks the earlier
    events whose key's state changed. DuckDB: a left join of every event with
    the changed keys, in the one scan that also takes the reprocessed days (a
    second reference to the events would materialize them). PostgreSQL: a
    second branch with a semi-join; there the left join sorted every event for
    a merge join (3-4 s at 1M events for an empty set of changed keys). -#}
{% macro changed_keys_by_left_join() -%}
    {{ return(adapter.dispatch('changed_keys_by_left_join', 'behavioral_segmentation')()) }}
{%- endmacro %}

{% macro default__changed_keys_by_left_join() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro duckdb__changed_keys_by_left_join() -%}
    {{ return(true) }}
{%- endmacro %}
