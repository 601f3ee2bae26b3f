"""Benchmark and reproduction scripts that run ketml beside its peers (not installed with ketml).

``harness`` holds what every script shares; ``engine_bench`` is the engine benchmark package.
"""
