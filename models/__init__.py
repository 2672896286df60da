"""Estimators, temporal validation, metrics, explanations and the model registry."""
