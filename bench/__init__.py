"""Benchmarks: each prints ratios of alternatives measured side by side in one run (`make bench`)."""
