"""The one entity: a customer, keyed by the stable id identity resolution issues."""

from feast import Entity, ValueType

customer = Entity(
    name="customer",
    join_keys=["customer_id"],
    value_type=ValueType.STRING,
    description="A person as identity resolution sees them (dim_customers.customer_id). Retired ids map to "
    "their survivor in marts.customer_id_lookup.",
    tags={"owner": "data-platform@cxp.example"},
)
