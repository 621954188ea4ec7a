"""Side-by-side benchmarks: `python -m benchmarks` runs every `bench_*.py` module here and prints ratios."""
