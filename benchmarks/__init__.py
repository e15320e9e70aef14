"""seqexp's performance benchmark: `make bench` (python -m benchmarks.run).

Side by side in one run, on synthetic data of the real shapes: training step time of seqexp's
path against the same Keras model on in-memory tensors and against the reference notebooks' way
(training.py); whole epochs and whole runs of `seqexp train` against the hand-written Keras
script and the notebooks' way, each in its own process, with `trainer.fast=true` too
(whole.py, child.py); what each default callback costs per epoch (callbacks.py); the Jena input
pipeline against DLwP's generator (pipeline.py), start-up (startup.py), peak memory (memory.py)
and sweep throughput (sweep.py); seqexp on JAX against the same script on JAX and against seqexp
on TensorFlow, on whatever device the backend finds (backends.py). Results go to results.json
and results.md, with the machine's load at the start and the end (a run on a busy machine is
flagged).
"""
