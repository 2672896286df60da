"""Simulated cities for benchmarks and tests, kept out of the product's layers (nothing in it imports them).

`cities.hawkes`: a city whose calls and incidents come from self-exciting processes, with scenarios
(`cities.scenario.scenarios()`) that put the risk signal in different sources, and exact true risks.
"""
