{#- `model` and `compare_model` hold the same rows (as multisets, over `model`'s columns). -#}
{% test equal_rowsets(model, compare_model) %}

{%- set columns = adapter.get_columns_in_relation(model) | map(attribute='quoted') | join(', ') -%}

with

model_rows as (

    select {{ columns }}, count(*) as n_copies from {{ model }} group by {{ columns }}

),

compare_rows as (

    select {{ columns }}, count(*) as n_copies from {{ compare_model }} group by {{ columns }}

),

only_in_model as (

    select * from model_rows
    except
    select * from compare_rows

),

only_in_compare as (

    select * from compare_rows
    except
    select * from model_rows

),

final as (

    select 'only_in_model' as side, * from only_in_model
    union all
    select 'only_in_compare' as side, * from only_in_compare

)

select * from final

{% endtest %}
