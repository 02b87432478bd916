"""Product recommendations: candidates, ranking, rules and evaluation, without Dagster."""
