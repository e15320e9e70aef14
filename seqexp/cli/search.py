"""`seqexp search hparams_search=<name> [overrides]`: an Optuna search, one run dir per trial."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = "an Optuna search (prunes, resumes, many workers); one run directory per trial"
ORDER = 1

HELP = """usage: seqexp search hparams_search=<name> [train overrides] [hparams_search.<key>=<value> ...]
       seqexp search --join <search dir> [hparams_search.n_jobs=N]

Run the Optuna search conf/hparams_search/<name>.yaml over the train config the overrides
compose; every trial is an ordinary run directory <search dir>/<trial>_<data>_<model>. The search
dir is hydra.sweep.dir (default outputs/multirun/<date>/<time>); it holds search.yaml, the Optuna
study (study.journal), the trials, summary.md/csv, comparison.png and Optuna's figures. `seqexp
resume <search dir> [hparams_search.n_trials=N]` continues an interrupted search or extends it.

arguments:
  hparams_search=<name>   the search: its space, sampler, pruner and budget (conf/hparams_search/)
  hparams_search.<key>=   one of its settings: n_trials, n_jobs, sampler, pruner, launcher, ...
  train overrides         key=value of `seqexp train` (data=jena, model=lstm_dropout, ...)
  --join <search dir>     add workers to a running search (another machine sharing the folder)
  -h, --help              show this help message and exit

examples:
  seqexp search hparams_search=recurrent_tpe model=lstm_dropout data=jena
  seqexp search hparams_search=recurrent_tpe hparams_search.pruner=hyperband hparams_search.n_trials=16
  seqexp search hparams_search=recurrent_tpe hparams_search.n_jobs=2 hydra.sweep.dir=/shared/s1
  seqexp search --join /shared/s1
  seqexp resume /shared/s1 hparams_search.n_trials=40
"""


def run(args: list[str]) -> int:
    from seqexp.search import driver

    if not args or args[0] in ("-h", "--help"):
        print(HELP)
        return 0 if args else 2
    if args[0] == "--join":
        parser = argparse.ArgumentParser(prog="seqexp search --join")
        parser.add_argument("root", type=Path)
        parser.add_argument("settings", nargs="*")
        given = parser.parse_args(args[1:])
        return driver.join(given.root, given.settings)
    return driver.start(args)
