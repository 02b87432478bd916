"""Measured impact: arm assignment, holdouts and lift statistics for experiments, without Dagster."""
