"""Prefect flows, publishing and the command line: where Fengqiao touches files, the store and MLflow."""
