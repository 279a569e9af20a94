"""Benchmarks with targets, run by `make bench` (see bench/README.md); not part of the tests."""
