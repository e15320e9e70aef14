"""Datasets: each module turns its config into a `DataBundle` (see `spec.py`). Modules:

jena, imdb, imdb_raw, fashion_mnist, headlines   one dataset each: its loader (conf/data/<name>.yaml)
spec       the data contract: the bundle of splits and what the rest of the run may know
pipeline   the batches every loader shares (tf.data on TF, NumPy PyDataset on JAX): seeded shuffles
serving    serving.json: what a trained run needs to read new inputs (predict, export, generate)
download   fetching a source once into the cache, checked, never half-written
encoding   where a file that should be UTF-8 stops being it, for error messages
synthetic  synthetic weather in the Jena CSV format (the bundled sample, tests, the benchmark)
"""
