"""The entities: a customer, keyed by the stable id identity resolution issues, and a product, by SKU."""

from feast import Entity, ValueType

customer = Entity(
    name="customer",
    join_keys=["customer_id"],
    value_type=ValueType.STRING,
    description="A person as identity resolution sees them (dim_customers.customer_id). Retired ids map to "
    "their survivor in marts.customer_id_lookup.",
    tags={"owner": "data-platform@cxp.example"},
)

product = Entity(
    name="product",
    join_keys=["sku"],
    value_type=ValueType.STRING,
    description="A product variant the shop sells, by its SKU (dim_products.sku).",
    tags={"owner": "data-platform@cxp.example"},
)
