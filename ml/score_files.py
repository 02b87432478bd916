"""Where the nightly scores are written, as files the feature store serves (no Feast needed here).

`feature_repo.customer_scores` declares the Feast view over these files; the scoring step and
`cxp explain` only need to know where and how wide they are, without importing Feast (seconds).
"""

SCORES_TABLE = "customer_scores"
"""The scores' folder under the feature files, and the feature view's name."""
REASONS_PER_MODEL = 3
"""Reasons kept per model and customer."""
EMPTY_SCORES_FOLDER = "_empty"
"""The folder of the schema-only file written before the first scoring run."""
