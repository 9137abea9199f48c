"""Benchmarks and the locust surge scenario."""
