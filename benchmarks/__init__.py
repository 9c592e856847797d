"""Timings of the course kit (``python -m benchmarks``); not tests: nothing here asserts."""
