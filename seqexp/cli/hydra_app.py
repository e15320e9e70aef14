"""Running a command as a Hydra app over conf/<config>.yaml, with seqexp's exit codes.

The job function is imported only when a job runs (and TensorFlow with it). A user error ends a
single run with exit code 2 and one paragraph, a full disk or an unwritable folder with exit
code 1 and one sentence; in a sweep it is recorded in the job's
metrics.json and the other jobs go on (`seqexp` then exits 1, naming the failed jobs).
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass

import hydra
from hydra.errors import HydraException
from hydra.utils import get_method
from omegaconf import DictConfig

from seqexp.config import CONF_DIR
from seqexp.errors import SeqexpError, disk_failure, disk_message
from seqexp.run.guard import Refused
from seqexp.run.rundir import release_all

log = logging.getLogger("seqexp")


@dataclass(frozen=True)
class HydraApp:
    target: str  # "module:function", the job run per composed config
    config_name: str  # conf/<config_name>.yaml
    check: str | None = None  # "module:function" that refuses bad values before the job imports TF

    def run(self, args: list[str]) -> int:
        from seqexp.config import launchers

        launchers.register()  # seqexp's joblib and ray presets, under the plugins' own names
        sys.argv = ["seqexp", *args]  # Hydra parses sys.argv; its completion installs for argv[0]
        app = hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name=self.config_name)
        try:
            app(job_runner(self.target, self.check))()
        except Refused as stop:  # seqexp.run.guard: a run or sweep folder refused, nothing written
            print(f"seqexp: error: {stop.message}", file=sys.stderr)
            return stop.code
        except HydraException as err:
            # Hydra prints its own refusals (an unknown option, a key set without +) and exits 1,
            # but re-raises them under a tracer (a debugger, coverage): say them the same way.
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise
            print(f"seqexp: error: {err}", file=sys.stderr)
            return 1
        finally:  # the run locks seqexp.run.guard took, however the app ended
            release_all()
        return sweep_exit_code()


def _function(target: str):
    module_name, function_name = target.split(":")
    return get_method(f"{module_name}.{function_name}")


def job_runner(target: str, check: str | None = None):
    """The Hydra task function: import the job lazily, turn user errors into exit code 2."""

    def run(cfg: DictConfig):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ info and warning chatter
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        multirun = HydraConfig.get().mode == RunMode.MULTIRUN
        try:
            if check is not None:
                _function(check)(cfg)  # every bad value in one message, before TensorFlow loads
            return _function(target)(cfg)
        except KeyboardInterrupt as err:
            from seqexp.interrupt import as_interrupted

            stop = as_interrupted(err)
            print(
                f"seqexp: interrupted ({stop.reason}); the run directory keeps its history, "
                "curves, best checkpoint and a metrics.json with status 'interrupted'. "
                "`seqexp resume <run dir>` continues it.",
                file=sys.stderr,
            )
            raise SystemExit(stop.exit_code) from None
        except Exception as err:
            problem = disk_failure(err)
            if not multirun and problem is not None and os.environ.get("HYDRA_FULL_ERROR") != "1":
                # a full disk or an unwritable folder: not a bug, and the run stays resumable
                print(f"seqexp: error: {disk_message(problem, cfg.paths.run_dir)}", file=sys.stderr)
                raise SystemExit(1) from None
            if not multirun:
                if not isinstance(err, SeqexpError) or os.environ.get("HYDRA_FULL_ERROR") == "1":
                    raise  # a bug (or a user who asked for the whole story): keep the traceback
                print(f"seqexp: error: {err}", file=sys.stderr)
                raise SystemExit(2) from None
            # In a sweep a failed job must not stop the others: Hydra's sweepers raise after the
            # batch for a job that raised, and skip on_multirun_end (no summary). So the failure
            # goes to the job's metrics.json and the job returns None, which the basic sweeper
            # ignores and the Optuna sweeper records as a FAILED trial.
            from seqexp.run.rundir import record_failure

            log.error("Job failed: %s", err, exc_info=not isinstance(err, SeqexpError))
            record_failure(HydraConfig.get().runtime.output_dir, err)
            return None

    return run


def sweep_exit_code() -> int:
    """1 when the sweep that just ended in this process had failed jobs (they are listed)."""
    summary = getattr(sys.modules.get("seqexp.summary.sweep"), "LAST_SUMMARY", None)
    if summary is None or not summary.failed:
        return 0
    print(
        f"seqexp: {len(summary.failed)} of {len(summary.jobs)} jobs failed: "
        + "; ".join(f"{job.name} ({job.status_text})" for job in summary.failed)
        + f". See {summary.root / 'summary.md'}.",
        file=sys.stderr,
    )
    return 1
