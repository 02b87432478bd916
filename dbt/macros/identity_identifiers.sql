{#- Every record × exact identifier (normalised valid email, E.164 phone) it carries. Shared by
    the model that judges identifiers and the one that turns trusted ones into edges. -#}
{% macro select_identity_identifiers(nodes) -%}
    select 'email' as identifier_type, email as identifier, record_id, first_name, last_name
    from {{ nodes }}
    where email is not null
    union all
    select 'phone' as identifier_type, phone_e164 as identifier, record_id, first_name, last_name
    from {{ nodes }}
    where phone_e164 is not null
{%- endmacro %}

{#- Local parts of role mailboxes that many people share: never proof of one identity. -#}
{% macro generic_mailbox_names() -%}
    ('info', 'sales', 'contact', 'contacts', 'office', 'admin', 'support', 'hello', 'team', 'enquiries',
     'inquiries', 'billing', 'accounts', 'accounting', 'mail', 'service', 'noreply', 'no-reply', 'orders',
     'shop', 'help', 'marketing', 'hr', 'webmaster', 'reception', 'family', 'home')
{%- endmacro %}
