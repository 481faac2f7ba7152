"""Benchmarks: `make bench` (python -m bench) measures the production stack on this machine."""
