"""How one job uses the machine: thread pools sized per job, devices, precision, tf.distribute, seeds.

Both must be set before TensorFlow runs its first op, so `train` calls `configure_job` first
thing. TensorFlow is imported inside the functions: the sweep summary and the CLI import this
module's neighbours without paying for TensorFlow.

trainer.threads
  auto  size the pools from the launcher: cores / n_jobs under hydra/launcher=joblib,
        cpus_per_task under submitit (slurm, submitit_local), the task's num_cpus under ray;
        TensorFlow's default (all cores) for a single run or the basic launcher.
  N     exactly N threads (intra-op and inter-op pools).
  null  TensorFlow's default.

trainer.mixed_precision
  true   Keras' mixed_float16 policy: float16 compute, float32 variables (task heads output
         float32). Pays off on GPUs with tensor cores; on a CPU float16 is slower.
  false  float32, set explicitly so an earlier mixed run in the same process does not leak.

trainer.strategy
  null          one device (TensorFlow's default strategy).
  mirrored      tf.distribute.MirroredStrategy: every local GPU, or `trainer.cpu_devices`
                logical CPUs when there is no GPU (to try it, and to test it, on a laptop).
  multi_worker  tf.distribute.MultiWorkerMirroredStrategy over the machines listed in the
                TF_CONFIG environment variable (one process per machine, same command).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os

from seqexp.config.trainer import Strategy
from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)


def available_cores() -> int:
    """Cores this process may run on (the CPU affinity mask, e.g. a SLURM cgroup or taskset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def share_of_cores(n_jobs: int, cores: int) -> int:
    """Threads per job when `n_jobs` jobs run at once on `cores` (joblib's -1 = one per core)."""
    parallel = n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)
    return max(1, cores // parallel)


def launcher_threads(launcher, cores: int) -> int | None:
    """Threads one job of this launcher should use, or None when the launcher does not say."""
    target = str(launcher.get("_target_", ""))
    if "joblib" in target:
        return share_of_cores(int(launcher.get("n_jobs") or -1), cores)
    if "submitit" in target:
        return launcher.get("cpus_per_task") or None
    if "ray" in target:
        remote = (launcher.get("ray") or {}).get("remote") or {}
        return remote.get("num_cpus") or None
    return None


def job_threads(setting: str | int | None) -> int | None:
    """The thread count `trainer.threads` asks for in this job (None: TensorFlow's default). The
    value was checked with the config (seqexp.config.trainer.Trainer): auto, N > 0 or null."""
    if setting != "auto":
        return setting
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    return launcher_threads(HydraConfig.get().launcher, available_cores())


def configure_threads(setting) -> int | None:
    """Size TensorFlow's intra-op and inter-op pools; returns the count applied (None: default)."""
    threads = job_threads(setting)
    if threads is None:
        return None
    import tensorflow as tf

    threading = tf.config.threading
    current = (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads())
    if current == (threads, threads):
        return threads
    try:
        threading.set_intra_op_parallelism_threads(threads)
        threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already ran in this process (a reused worker, a test)
        log.warning(
            "trainer.threads=%s: TensorFlow is already running in this process with "
            "intra/inter-op pools %s; thread pools are set once per process.",
            threads,
            current,
        )
        return None
    log.info("TensorFlow thread pools: %d intra-op, %d inter-op threads", threads, threads)
    return threads


def configure_cpu_devices(count: int | None) -> None:
    """Split the physical CPU into `count` logical devices (for mirrored training without GPUs)."""
    if not count or count < 2:
        return
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError:  # TensorFlow already initialised: keep what it has
        have = len(tf.config.list_logical_devices("CPU"))
        if have < count:
            log.warning(
                "trainer.cpu_devices=%d: TensorFlow already started with %d logical "
                "CPU(s) in this process; devices are set once per process.",
                count,
                have,
            )


def make_strategy(name: Strategy | None, cpu_devices: int | None = None):
    """The tf.distribute strategy named by `trainer.strategy` (checked with the config: null,
    mirrored or multi_worker)."""
    import tensorflow as tf

    if name is None:
        return tf.distribute.get_strategy()
    if name == "multi_worker":
        workers = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {}).get("worker")
        if workers and len(workers) > 1:
            # Refused rather than left to crash inside fit: Keras 3 cannot fit across workers.
            raise SeqexpError(
                f"trainer.strategy=multi_worker over {len(workers)} workers (TF_CONFIG) cannot "
                f"train with Keras {_keras_version()}: model.fit fails across workers inside "
                "Keras (keras-team/keras#20585, open). Train on one machine with "
                "trainer.strategy=mirrored (all its GPUs), or spread a sweep over machines "
                "with hydra/launcher=slurm or hydra/launcher=ray (docs/sweeps.md)."
            )
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    elif tf.config.list_logical_devices("GPU"):
        strategy = tf.distribute.MirroredStrategy()
    else:
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        if cpu_devices:
            cpus = cpus[:cpu_devices]
        # Gradients summed on one device: CPU collectives keyed per strategy clash when a
        # process builds a second MirroredStrategy (a reused sweep worker, the tests).
        strategy = tf.distribute.MirroredStrategy(
            devices=cpus, cross_device_ops=tf.distribute.ReductionToOneDevice()
        )
    log.info(
        "tf.distribute strategy: %s with %d replica(s) in sync",
        type(strategy).__name__,
        strategy.num_replicas_in_sync,
    )
    return strategy


def _keras_version() -> str:
    import keras

    return keras.__version__


def configure_precision(mixed: bool | None) -> str:
    """Keras' global dtype policy for this run's models; returns its name."""
    import keras

    policy = "mixed_float16" if mixed else "float32"
    if keras.mixed_precision.global_policy().name != policy:
        keras.mixed_precision.set_global_policy(policy)
    if mixed:
        gpu = has_gpu()
        log.log(
            logging.INFO if gpu else logging.WARNING,
            "trainer.mixed_precision=true: float16 compute, float32 variables%s",
            "" if gpu else " (no GPU here: float16 is emulated on a CPU and usually slower)",
        )
    return policy


def has_gpu() -> bool:
    """Whether the Keras backend of this process sees a GPU (never assumed: asked)."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return any(d.platform == "gpu" for d in jax.devices())
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def check_replicas(batch_size: int, replicas: int, strategy: str | None) -> None:
    """Each replica takes batch_size / replicas samples of every batch: fewer samples than
    replicas would leave a replica without data."""
    if batch_size < replicas:
        raise SeqexpError(
            f"trainer.batch_size={batch_size} is smaller than the {replicas} replicas of "
            f"trainer.strategy={strategy}: each replica takes a share of every batch. Use a "
            f"trainer.batch_size that is a multiple of {replicas} (e.g. {replicas * 32})."
        )
    if batch_size % replicas:
        log.warning(
            "trainer.batch_size=%d is not a multiple of the %d replicas: the replicas get "
            "unequal shares of each batch.",
            batch_size,
            replicas,
        )


def configure_xla_threads(setting) -> int | None:
    """JAX on the CPU: XLA's intra-op pool sized like TF's (XLA_FLAGS, read when JAX starts its
    CPU client, so set before the first JAX op); returns the count applied (None: default)."""
    threads = job_threads(setting)
    if threads is None:
        return None
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
        log.warning(
            "trainer.threads=%s: JAX already runs in this process; its threads are set once.", threads
        )
        return None
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if "intra_op_parallelism_threads" not in f]
    os.environ["XLA_FLAGS"] = " ".join([*flags, f"--xla_cpu_multi_thread_eigen={threads > 1}".lower(),
                                        f"intra_op_parallelism_threads={threads}"])  # fmt: skip
    log.info("XLA CPU threads: %d", threads)
    return threads


def configure_job(trainer) -> contextlib.AbstractContextManager:
    """Thread pools and devices first, then the strategy; returns the scope to build models in."""
    if trainer.get("backend") == "jax":
        # trainer.strategy and cpu_devices (tf.distribute) were refused with the config
        from seqexp.run.keras_internals import hide_tensorflow

        hide_tensorflow()  # a JAX run needs no TensorFlow: Keras would import it for its seeds
        configure_xla_threads(trainer.get("threads"))
        configure_precision(trainer.get("mixed_precision"))
        return contextlib.nullcontext()
    configure_threads(trainer.get("threads"))
    configure_cpu_devices(trainer.get("cpu_devices"))
    configure_precision(trainer.get("mixed_precision"))
    strategy = make_strategy(trainer.get("strategy"), trainer.get("cpu_devices"))
    check_replicas(trainer.get("batch_size"), strategy.num_replicas_in_sync, trainer.get("strategy"))
    return strategy.scope()


def seed_everything(seed: int) -> None:
    """Same seed, same history on CPU: Python, NumPy and TF seeds (deterministic_ops does the
    rest, once the model is built and it is known whether XLA compiles it)."""
    import keras

    keras.utils.set_random_seed(seed)


def deterministic_ops(jit_compile: bool) -> None:
    """TF's deterministic ops, unless XLA compiles the model.

    Keras never XLA-compiles while TF's op determinism is on, so XLA (`trainer.jit_compile`, or
    `trainer.fast` on a model XLA speeds up) turns it off, for this run (the setting is
    process-wide), and says so.
    """
    import keras

    if keras.backend.backend() != "tensorflow":  # XLA on JAX's CPU: the same program, the same result
        return
    import tensorflow as tf
    from tensorflow.python.framework.config import disable_op_determinism

    if jit_compile:
        disable_op_determinism()
        log.warning(
            "XLA is on (trainer.jit_compile or trainer.fast): TensorFlow's deterministic ops are off "
            "(Keras does not XLA-compile with them on), so reruns of this seed may differ slightly."
        )
    else:
        tf.config.experimental.enable_op_determinism()
