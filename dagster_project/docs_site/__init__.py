"""The documentation `cxp docs` serves on loopback: Great Expectations' quality reports and dbt's docs."""
