"""Training one run: `train(cfg)` and everything a run directory holds. Modules, top to bottom:

train            the one entrypoint: config -> data -> model -> fit -> the run directory's files
console          what a run says on the console: a short header, the backend and device, closing lines
build            the checks before any data loads, then the data, the model and its compile
callbacks        the switchable callbacks of conf/callbacks, one factory each
keras_callbacks  the Keras subclasses behind them: atomic checkpoint and backup, history.csv, curves
keras_internals  every use of Keras' private API, behind public names (the Keras floor)
monitor          the monitored metric: which epoch is best
optimizers       the optimizers conf/optimizer names
runtime          threads, devices, precision, tf.distribute and seeds of one job, per backend
record           metrics.json: the run's typed record, its one writer, what each status means
rundir           the run directory's files (history.csv) and whether a folder may be trained into
identity         what made a run directory, and what may be replayed into it
resume           continuing an interrupted run in its own directory
lock             run.lock: one process per run directory
labels           labels.json: tags, note and archived state set after a run
trash            the trash of a folder of runs (.trash/): deleted runs, restorable
manage           `seqexp runs tag|note|archive|delete|restore|purge`: which run, never a running one
guard            the Hydra callback that checks run and sweep directories before Hydra writes
environment      env.json: versions, devices, git commit
tracking         the trackers of one run, called as one: start, each epoch, end
hparams          a run's hyperparameters and its row in TensorBoard's HParams tab
mlflow_logger    logger=mlflow: each run an MLflow run, each sweep a parent run
wandb_logger     logger=wandb: a run as a Weights & Biases run (offline by default)
tb_events        TensorBoard event files in pure Python (any backend)
"""
