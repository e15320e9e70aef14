"""Sweeps that survive: a `seqexp train -m` sweep continued (`seqexp resume <sweep dir>`, or the
same command with hydra.sweep.dir=) and grown (more values of its swept keys) in its folder.

  joblist   jobs.json at the sweep root: the jobs (number, overrides, folder, config identity)
  runner    compose and match the jobs, decide from each job folder what runs, launch the rest
  progress  one line per job event and jobs done / running / left with the time left

Hydra's plugin entry point is hydra_plugins/seqexp/sweeper.py (Hydra loads plugins only from
that namespace); conf/hydra/sweeper/seqexp.yaml selects it.
"""
