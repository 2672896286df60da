"""Benchmarks of Fengqiao (run from the repository root, e.g. ``python -m bench.ingest_bench``)."""
