{#- How an email leaves the warehouse: lower-case hex SHA-256 of the normalized
    (trimmed, lower-cased) address. The digest itself is dialect-specific and
    dispatched in sha256_hex. -#}
{% macro hash_email(expression) -%}
    {{ sha256_hex('lower(trim(' ~ expression ~ '))') }}
{%- endmacro %}
