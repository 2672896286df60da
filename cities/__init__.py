"""Simulated cities for the demo, benchmarks and tests, kept out of the product's layers (they read only
`contracts`; the product imports them only where it runs the demo: import-linter contracts in pyproject.toml).

`cities.demo`: the demo city 清江市 (`fengqiao simulate`, `demo`, `rehearse`; docs/design/simulator.md).
`cities.hawkes`: a city whose calls and incidents come from self-exciting processes, with scenarios
(`cities.scenario.scenarios()`) that put the risk signal in different sources, and exact true risks.
`cities.bulk_hotline`: many hotline records, fast, for the ingest throughput benchmark; `cities.bulk_messy`
the same as a messy export (defective, resent and changed rows) with the accounting ingest must report.
"""
