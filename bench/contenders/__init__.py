"""The contenders of bench/compare.py, each run as its own process (`python -m contenders.X`)."""
