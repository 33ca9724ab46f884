{#- One schema per layer, named as configured (raw, reference, staging,
    intermediate, marts), so grants can be given per layer. Models without a
    custom schema go to the target's schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
