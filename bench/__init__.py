"""Benchmarks: run with `make bench`; each reports ratios measured side by side in one run."""
