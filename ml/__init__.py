"""Models for churn, purchase propensity and lifetime value: a plain library, importable without Dagster."""
