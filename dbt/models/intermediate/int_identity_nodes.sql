with

contacts as (

    select * from {{ ref('stg_salesforce__contacts') }}

),

orders as (

    select * from {{ ref('stg_shopify__orders') }}

),

email_events as (

    select * from {{ ref('stg_sendgrid__events') }}

),

tickets as (

    select * from {{ ref('stg_zendesk__tickets') }}

),

-- Deleted contacts stay: a merge loser is still a real record of its person.
contact_nodes as (

    select
        'crm_contact' as source,
        contact_id as source_key,
        first_name_normalized as first_name,
        last_name_normalized as last_name,
        case when is_email_valid then email_normalized end as email,
        email_normalized as email_as_written,
        phone_e164,
        mailing_street as street,
        postcode_normalized as postcode,
        mailing_city as city,
        country_code,
        birthdate,
        last_modified_at as last_seen_at

    from contacts

),

order_nodes as (

    select
        'shopify_order' as source,
        cast(order_id as varchar) as source_key,
        billing_first_name_normalized as first_name,
        billing_last_name_normalized as last_name,
        case when is_email_valid then email_normalized end as email,
        email_normalized as email_as_written,
        billing_phone_e164 as phone_e164,
        billing_street as street,
        billing_postcode_normalized as postcode,
        billing_city as city,
        billing_country_code as country_code,
        cast(null as date) as birthdate,
        greatest(created_at, paid_at, cancelled_at) as last_seen_at

    from orders
    where not is_test_order

),

-- SendGrid knows a recipient only by its address; an invalid one is kept as a node without email.
recipient_nodes as (

    select
        'sendgrid_recipient' as source,
        email_normalized as source_key,
        cast(null as varchar) as first_name,
        cast(null as varchar) as last_name,
        case when bool_or(is_email_valid) then email_normalized end as email,
        email_normalized as email_as_written,
        cast(null as varchar) as phone_e164,
        cast(null as varchar) as street,
        cast(null as varchar) as postcode,
        cast(null as varchar) as city,
        cast(null as varchar) as country_code,
        cast(null as date) as birthdate,
        max(event_at) as last_seen_at

    from email_events
    where email_normalized is not null
    group by email_normalized

),

-- A requester's name, email and phone as its latest ticket that carries each shows them.
requester_nodes as (

    select
        'zendesk_requester' as source,
        cast(requester_id as varchar) as source_key,
        arg_max(requester_first_name_normalized, updated_at)
            filter (where requester_first_name_normalized is not null) as first_name,
        arg_max(requester_last_name_normalized, updated_at)
            filter (where requester_last_name_normalized is not null) as last_name,
        arg_max(requester_email_normalized, updated_at) filter (where is_requester_email_valid) as email,
        arg_max(requester_email_normalized, updated_at) as email_as_written,
        arg_max(requester_phone_e164, updated_at) filter (where requester_phone_e164 is not null) as phone_e164,
        cast(null as varchar) as street,
        cast(null as varchar) as postcode,
        cast(null as varchar) as city,
        cast(null as varchar) as country_code,
        cast(null as date) as birthdate,
        max(updated_at) as last_seen_at

    from tickets
    where requester_id is not null
    group by requester_id

),

unioned as (

    select * from contact_nodes
    union all
    select * from order_nodes
    union all
    select * from recipient_nodes
    union all
    select * from requester_nodes

),

-- An address written invalidly (ann@@mail.com, ann @mail.com, ann.mail.com, ann@mail) is taken
-- as the one valid address of the data it spells once punctuation, or the valid address's
-- top-level domain, is ignored. When it could spell two addresses it stays NULL.
valid_email_spellings as (

    select distinct email, regexp_replace(email, '[^a-z0-9]', '', 'g') as spelling
    from unioned
    where email is not null
    union
    select distinct email, regexp_replace(regexp_replace(email, '\.[a-z]+$', ''), '[^a-z0-9]', '', 'g') as spelling
    from unioned
    where email is not null

),

unambiguous_spellings as (

    select spelling, any_value(email) as email
    from valid_email_spellings
    group by spelling
    having count(distinct email) = 1

),

repaired_emails as (

    select
        unioned.* replace (coalesce(unioned.email, unambiguous_spellings.email) as email)

    from unioned
    left join unambiguous_spellings
        on unioned.email is null
        and regexp_replace(unioned.email_as_written, '[^a-z0-9]', '', 'g') = unambiguous_spellings.spelling

),

-- Street and city forms that differ only in punctuation, spacing, accents or a common
-- abbreviation compare equal; the apartment stays part of the street.
street_words as (

    select
        *,
        string_split(
            nullif(trim(regexp_replace(
                regexp_replace(strip_accents({{ fold_letters('lower(street)') }}), '[.,;#]', ' ', 'g'),
                '[\s\pZ]+', ' ', 'g'
            )), ''),
            ' '
        ) as street_tokens

    from repaired_emails

),

final as (

    select
        source || ':' || source_key as record_id,
        source,
        source_key,
        first_name,
        last_name,
        email,
        phone_e164,
        array_to_string(
            list_transform(
                street_tokens,
                lambda word: coalesce(
                    map {
                        'street': 'st', 'avenue': 'ave', 'road': 'rd', 'drive': 'dr', 'lane': 'ln',
                        'boulevard': 'blvd', 'court': 'ct', 'place': 'pl', 'square': 'sq',
                        'terrace': 'ter', 'highway': 'hwy', 'parkway': 'pkwy', 'circle': 'cir',
                        'apartment': 'apt', 'suite': 'ste', 'north': 'n', 'south': 's',
                        'east': 'e', 'west': 'w', 'strasse': 'str', 'straße': 'str'
                    }[word],
                    word
                )
            ),
            ' '
        ) as street,
        postcode,
        nullif(trim(regexp_replace(
            regexp_replace(strip_accents({{ fold_letters('lower(city)') }}), '[.,;]', ' ', 'g'),
            '[\s\pZ]+', ' ', 'g'
        )), '') as city,
        country_code,
        birthdate,
        last_seen_at

    from street_words

)

select * from final
