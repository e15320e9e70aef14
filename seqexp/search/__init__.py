"""Hyperparameter search with Optuna: `seqexp search`, `seqexp resume <search dir>`.

A search is a folder (the search dir) holding search.yaml (what was asked), the Optuna study
(study.journal unless an RDB URL is given), one ordinary seqexp run directory per trial, and the
reports. Modules, top to bottom:

  config  the hparams_search=<name> config group, checked, and the Optuna pieces it names
  space   the search space: Hydra's sweep syntax parsed into Optuna distributions
  trial   one trial = compose the train config with the trial's overrides, call train
  worker  the ask/tell loop every worker runs (local process, another machine, SLURM task)
  liveness  each worker's heartbeat file, and which workers are alive (resume adopts the rest)
  report  summary.csv/md, comparison.png and Optuna's own figures at the search root
  driver  start, resume and join a search; the workers it starts
"""
