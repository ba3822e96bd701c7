"""Benchmarks (SPEC §11): each measures its own yardstick in the same run."""
