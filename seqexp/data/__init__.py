"""Datasets: each module turns its config into a `DataBundle` (see `spec.py`)."""
