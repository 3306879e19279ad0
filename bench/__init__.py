"""Benchmarks; each section writes its numbers into bench/results.json via `bench.results`."""
