"""Demo export generator: a simulated business's Salesforce, Shopify, SendGrid and Zendesk exports.

People get latent buying, churn, spend, email and support parameters; their lives are simulated
day by day, and each source system's export is written as the export contract
(`dagster_project/ingest/EXPORT_CONTRACT.md`) describes, with real-world messiness. Ground truth
goes to `_truth/`.
"""

from dagster_project.demo_exports.generate import GenerationSummary, generate_demo_exports

__all__ = ["GenerationSummary", "generate_demo_exports"]
