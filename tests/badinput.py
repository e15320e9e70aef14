"""Run `seqexp <command> ...` in-process, as the real entry point does, for bad-input tests.

A subprocess costs ~5 s (the TensorFlow import); `run_cli` calls `seqexp.cli.main` in this
process instead, so the exit code is the real one (the CLI's `SystemExit(2)` for a user error,
Hydra's own exit for an unknown option, `main`'s return value otherwise) and the message is what
the user would read on stderr. What a Hydra app changes in the process is put back afterwards:
`sys.argv`, the logging handlers and levels Hydra's job_logging installs (a console handler bound
to pytest's capture stream would outlive it), Hydra's global state, and the last sweep summary
that `main` reads for its exit code. Hydra's `logging.config.dictConfig` also closes every handler
that exists (`_clearExistingHandlers`); in a real run that is harmless, but in a test process it
would close streams that are not the run's (absl's handler closes pytest's capture file), so
here existing handlers are only flushed and forgotten, not closed.

    code, stderr = run_cli(["train", "data=jena", f"data.path={bad}", f"hydra.run.dir={run}"],
                           capsys)
    assert code == 2 and "seqexp: error:" in stderr
    assert_no_success(run)
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
from pathlib import Path
from unittest import mock

# Appended to every `train` run unless the test gives its own value: no progress bars, no
# TensorBoard files.
QUIET = ("trainer.verbose=0", "callbacks.tensorboard.enabled=false")
SUCCESS = ("completed", "stopped early")


def _quiet(args: list[str]) -> list[str]:
    if not args or args[0] != "train":
        return list(args)
    given = {a.split("=", 1)[0] for a in args[1:] if "=" in a}
    return [*args, *(q for q in QUIET if q.split("=", 1)[0] not in given)]


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    """(exit code, stderr) of `seqexp <args>` run in this process; stdout is discarded
    (run_cli_output keeps it)."""
    code, _, err = run_cli_output(args, capsys)
    return code, err


def run_cli_output(args: list[str], capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `seqexp <args>` run in this process.

    `args` is what follows `seqexp` on a command line, e.g. ["train", "data=jena", ...]; pass
    `hydra.run.dir=<tmp>` so the run directory lands where the test can inspect it. A bug (any
    exception other than SystemExit) propagates with its traceback, so a test cannot mistake it
    for a handled user error.
    """
    from hydra.core.global_hydra import GlobalHydra

    from seqexp.cli import main

    sweep = sys.modules.get("seqexp.summary.sweep")
    if sweep is not None:
        sweep.LAST_SUMMARY = None  # a sweep of an earlier test must not decide this exit code
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_loggers = {
        name: (logger.level, list(logger.handlers), logger.propagate, logger.disabled)
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    saved_argv = list(sys.argv)
    capsys.readouterr()  # only this run's output
    try:
        with mock.patch.object(logging.config, "_clearExistingHandlers", _forget_handlers):
            code = main(_quiet(args))
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.argv = saved_argv
        GlobalHydra.instance().clear()
        for handler in root.handlers:
            if handler not in saved_handlers:
                handler.close()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, logger in logging.Logger.manager.loggerDict.items():
            if name in saved_loggers:
                level, handlers, propagate, disabled = saved_loggers[name]
                logger.setLevel(level)
                logger.handlers[:] = handlers
                logger.propagate, logger.disabled = propagate, disabled
    captured = capsys.readouterr()
    err = captured.err
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed by Python, status 1
        err, code = err + str(code), 1
    return code, captured.out, err


def _forget_handlers() -> None:
    """logging.config's _clearExistingHandlers without closing the handlers' streams."""
    for handler in logging._handlerList[:]:  # weak references
        handler = handler()
        if handler is not None:
            try:
                handler.flush()
            except (OSError, ValueError):
                pass
    logging._handlers.clear()
    del logging._handlerList[:]


def run_status(run_dir: Path) -> str | None:
    """The status in run_dir/metrics.json, or None when there is no metrics.json."""
    metrics = Path(run_dir) / "metrics.json"
    if not metrics.exists():
        return None
    return json.loads(metrics.read_text()).get("status")


def assert_no_success(run_dir: Path) -> None:
    """Nothing in `run_dir` claims a successful run: no metrics.json with status completed or
    stopped early, and no checkpoints/best.keras (a missing run_dir passes: nothing was written).
    """
    run_dir = Path(run_dir)
    status = run_status(run_dir)
    assert status not in SUCCESS, f"{run_dir}/metrics.json claims success: status {status!r}"
    best = run_dir / "checkpoints" / "best.keras"
    assert not best.exists(), f"{best} exists after a failed run"
