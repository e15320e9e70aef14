"""Running a command as a Hydra app over conf/<config>.yaml, with seqexp's exit codes.

The command line is checked first, the way Hydra will read it (flags, the override grammar, the
composed config, sweep settings), so Hydra's own refusals are one paragraph and exit code 2 as
well. The job function is imported only when a job runs (and TensorFlow with it). A user error
ends a single run with exit code 2 and one paragraph, a full disk or an unwritable folder with
exit code 1 and one sentence; in a sweep it is recorded in the job's
metrics.json and the other jobs go on (`seqexp` then exits 1, naming the failed jobs).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from dataclasses import dataclass

import hydra
from hydra.errors import HydraException
from hydra.utils import get_method
from omegaconf import DictConfig, OmegaConf

from seqexp.config import CONF_DIR
from seqexp.errors import SeqexpError, disk_failure, disk_message
from seqexp.run.guard import Refused
from seqexp.run.lock import release_all

log = logging.getLogger("seqexp")


@dataclass(frozen=True)
class HydraApp:
    target: str  # "module:function", the job run per composed config
    config_name: str  # conf/<config_name>.yaml
    check: str | None = None  # "module:function" that refuses bad values before the job imports TF
    run_dir_first: bool = False  # `seqexp <command> RUN ...`: the command reads a run directory

    def run(self, args: list[str]) -> int:
        from seqexp.config import launchers

        if self.run_dir_first:
            args = run_dir_as_override(args, self.config_name)
        launchers.register()  # seqexp's joblib and ray presets, under the plugins' own names
        sys.argv = ["seqexp", *args]  # Hydra parses sys.argv; its completion installs for argv[0]
        refuse_bad_command_line(args, self.config_name)
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


# Hydra's flags that take the next word as their value (`--cfg job`, `-cn predict`, `--info plugins`)
VALUE_FLAGS = ("-c", "--cfg", "-p", "--package", "-cp", "--config-path", "-cn", "--config-name",
               "-cd", "--config-dir", "--experimental-rerun")  # fmt: skip
KEYED = {"predict": "input", "generate": "prompt", "export": "format"}  # a bare word's likely key
INFO_FLAGS, INFO_VALUES = (
    ("-i", "--info"),
    ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath"),
)


def run_dir_as_override(args: list[str], command: str) -> list[str]:
    """`seqexp predict RUN input=x.csv` as Hydra reads it: the one word without `=` (not a
    flag's value) is the run directory, passed on as run='RUN' (quoted: any folder name). The
    run directory given twice, or a second bare word, is refused naming the right form."""
    from seqexp.run.rundir import quoted_override

    bare = []
    for i, arg in enumerate(args):
        after = args[i - 1] if i else ""
        if arg.startswith("-") or after in VALUE_FLAGS or (after in INFO_FLAGS and arg in INFO_VALUES):
            continue
        if "=" not in arg or os.path.isdir(arg):  # a folder named `a=1` is still a folder
            bare.append(i)
    if not bare:
        return args
    path, where = args[bare[0]], bare[0]
    rest = args[:where] + args[where + 1 :]
    if len(bare) > 1:
        extra = args[bare[1]]
        raise SeqexpError(
            f"{extra!r} has no key: only the run directory is given without one, as the first "
            f"argument (`seqexp {command} {path} ...`); every other setting is key=value (e.g. "
            f"{KEYED.get(command, 'key')}={extra})."
        )
    twice = [a for a in rest if a.split("=", 1)[0].lstrip("+~") == "run" and "=" in a]
    if twice:
        raise SeqexpError(
            f"The run directory is given twice: {path} (the first argument) and {twice[0]}. "
            f"Give it once, as the first argument: `seqexp {command} {path} ...`."
        )
    return [*args[:where], quoted_override("run", path), *args[where + 1 :]]


GRAMMAR_LINK = re.compile(r"\s*See https://hydra\.cc\S* for details\.?")
MODES = ("--run", "--multirun", "--cfg", "--info", "--shell-completion")


def refuse_bad_command_line(args: list[str], config_name: str) -> None:
    """Hydra's own refusals as one paragraph (SeqexpError, exit 2) before Hydra starts: flags
    that exclude each other, an override its grammar cannot parse, and a config it cannot
    compose (an unknown option of a group, a key set without `+`). Hydra would print a traceback
    for the first and several lines for the others. Sweep values (`a=1,2`) are composed by the
    sweep itself, one job at a time."""
    from hydra._internal.utils import get_args_parser  # the parser hydra.main itself uses
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    flags = get_args_parser().parse_args(args)
    if flags.help or flags.hydra_help or flags.shell_completion:
        return  # help and completion work whatever the rest of the line holds
    given = [
        mode
        for mode, on in zip(
            MODES,
            (flags.run, flags.multirun, flags.cfg is not None, flags.info is not None, False),
            strict=True,
        )
        if on
    ]
    if len(given) > 1:
        raise SeqexpError(
            f"{' and '.join(given)} cannot be used together: each is a different way to run "
            "(one run, a sweep, print the config, print Hydra's info). To see one sweep job's config, "
            "give its values without -m, e.g. `seqexp train --cfg job model.units=8`."
        )
    if flags.resolve and flags.cfg is None:
        raise SeqexpError("--resolve only works together with --cfg (e.g. `--cfg job --resolve`).")
    try:
        overrides = OverridesParser.create().parse_overrides(flags.overrides)
    except OverrideParseException as err:
        raise SeqexpError(
            f"Cannot read the override {err.override!r}: {parse_problem(err.message)} Quote a value that "
            "holds unicode, commas, brackets, parentheses, quotes or '=' (e.g. "
            "'data.path=\"/data/my run=2, é.csv\"'); the grammar is at "
            "https://hydra.cc/docs/advanced/override_grammar/basic/."
        ) from None
    if flags.multirun:
        refuse_unknown_sweep_options(overrides)
    # In a sweep each job composes its own values; in one run a sweep value is a mistake Hydra names.
    compose_or_refuse(
        config_name, [o.input_line for o in overrides if not (flags.multirun and o.is_sweep_override())]
    )


def parse_problem(message: str) -> str:
    """What Hydra's parser says is wrong, as a sentence. Its lexer only echoes the override with a
    caret under the first character it cannot read: that character is named instead."""
    lexer = "LexerNoViableAltException: "
    lines = message.splitlines()
    if lines and lines[0].startswith(lexer) and len(lines) > 1 and "^" in lines[1]:
        column = lines[1].index("^") - len(lexer)
        text = lines[0][len(lexer) :]
        if 0 <= column < len(text):
            return f"the character {text[column]!r} (at position {column + 1}) cannot appear unquoted."
    return one_paragraph(GRAMMAR_LINK.sub("", message))


def refuse_unknown_sweep_options(overrides) -> None:
    """`-m model=gru,nosuch`: every option a sweep lists for one of seqexp's config groups exists
    (composing only the first job would not see it; Hydra would fail in the middle of the sweep)."""
    for override in overrides:
        group = CONF_DIR / override.key_or_group
        if not override.is_sweep_override() or override.package or not group.is_dir():
            continue
        try:
            values = list(override.sweep_string_iterator())
        except Exception:  # a range or an interval: not a list of options
            continue
        unknown = [v for v in values if not (group / f"{v}.yaml").exists()]
        if unknown:
            known = sorted(p.stem for p in group.glob("*.yaml"))
            raise SeqexpError(
                f"{override.input_line} sweeps over {', '.join(unknown)}, which "
                f"{'is not an option' if len(unknown) == 1 else 'are not options'} of "
                f"{override.key_or_group}; its options are {', '.join(known)}."
            )


def compose_or_refuse(config_name: str, overrides: list[str]) -> None:
    """Compose the config as Hydra will; what it refuses becomes one paragraph."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf.errors import OmegaConfBaseException

    from seqexp.config.launchers import launcher_problems

    if GlobalHydra.instance().is_initialized():  # inside a running Hydra app: it composes itself
        return
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name, overrides=overrides, return_hydra_config=True)
    except (HydraException, OmegaConfBaseException) as err:
        cause = err.__cause__ if isinstance(err.__cause__, OmegaConfBaseException) else None
        reason = str(cause).splitlines()[0].strip() if cause else ""  # e.g. "Key 'x' is not in struct"
        text = one_paragraph(str(err))
        text = f"{text.rstrip('.')} ({reason})." if reason else text
        raise SeqexpError(text) from None
    problems = launcher_problems(cfg.hydra)
    if problems:
        count = f"{len(problems)} bad sweep settings: " if len(problems) > 1 else ""
        raise SeqexpError(count + "; ".join(problems) + ".")


def one_paragraph(message: str) -> str:
    """Hydra's multi-line message as one paragraph: the option lists it indents become comma
    lists, and the config search path (Hydra's internals) is left out."""
    message = message.split("Config search path:")[0]
    parts: list[str] = []
    for line in message.splitlines():
        if line.strip() in ("", "^"):  # the parser's caret under the bad character
            continue
        if line.startswith("\t") and parts and not parts[-1].endswith(":"):
            parts[-1] += ", " + line.strip()
        else:
            parts.append(line.strip())
    ends = (".", ":", ";", "!", "?", ")")
    text = "".join(
        p if i == 0 else (" " if parts[i - 1].endswith(ends) else ". ") + p for i, p in enumerate(parts)
    )
    return text if text.endswith(ends) else text + "."


def _function(target: str):
    module_name, function_name = target.split(":")
    return get_method(f"{module_name}.{function_name}")


def job_runner(target: str, check: str | None = None):
    """The Hydra task function: import the job lazily, turn user errors into exit code 2."""

    def run(cfg: DictConfig):
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        from seqexp import backend

        if not backend.can_use(backend.wanted(cfg)):
            # Keras runs another backend in this process (a sweep over trainer.backend, in-process
            # or in a reused joblib worker): the job runs in a fresh process
            return run_in_fresh_process(target, check, cfg)
        backend.choose(backend.wanted(cfg))  # KERAS_BACKEND, before the job imports Keras
        multirun = HydraConfig.get().mode == RunMode.MULTIRUN
        try:
            if check is not None:
                _function(check)(cfg)  # every bad value in one message, before TensorFlow loads
            with backend.quiet_start():  # the job's module loads Keras
                job = _function(target)
            return job(cfg)
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
                # predict, export and generate have no run of their own to resume (no paths.run_dir)
                run_dir = OmegaConf.select(cfg, "paths.run_dir")
                print(f"seqexp: error: {disk_message(problem, run_dir)}", file=sys.stderr)
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
            from seqexp.run.record import record_failure

            log.error("Job failed: %s", err, exc_info=not isinstance(err, SeqexpError))
            record_failure(HydraConfig.get().runtime.output_dir, err)
            return None

    return run


def run_in_fresh_process(target: str, check: str | None, cfg: DictConfig):
    """Run one job in a new Python process (its config and Hydra's job context pickled to it)
    and return what it returned; its exit code, if it exits with one, is this job's."""
    import pickle
    import subprocess
    import tempfile

    from hydra.core.hydra_config import HydraConfig

    with tempfile.TemporaryDirectory(prefix="seqexp-job-") as folder:
        job, result = os.path.join(folder, "job.pkl"), os.path.join(folder, "result.pkl")
        # plain containers: Hydra's structured config classes do not pickle across a joblib
        # worker's re-imported plugins; Hydra's own part resolved here (`${now:}` once)
        hydra_cfg = OmegaConf.to_container(HydraConfig.instance().cfg, resolve=True)
        with open(job, "wb") as f:
            pickle.dump((target, check, OmegaConf.to_container(cfg), hydra_cfg, result), f)
        child = subprocess.Popen(
            [sys.executable, "-c", "import sys; from seqexp.cli.hydra_app import run_job_file; "
             "run_job_file(sys.argv[1])", job]
        )  # fmt: skip
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:  # the child got the same Ctrl-C: it records and says it
                continue
        if code != 0:  # killed by a signal: the shell's 128 + N
            raise SystemExit(code if code > 0 else 128 - code)
        with open(result, "rb") as f:
            return pickle.load(f)


def run_job_file(path: str) -> None:
    """The fresh process of run_in_fresh_process: Hydra's job context and logging as the parent
    had them, then the job."""
    import pickle

    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import configure_log, setup_globals

    with open(path, "rb") as f:
        target, check, cfg, hydra_cfg, result = pickle.load(f)
    setup_globals()  # the ${hydra:...} resolver the config's paths use
    HydraConfig.instance().cfg = hydra_cfg = OmegaConf.create(hydra_cfg)
    cfg = OmegaConf.create(cfg)
    configure_log(hydra_cfg.hydra.job_logging, hydra_cfg.hydra.verbose)
    value = job_runner(target, check)(cfg)
    with open(result, "wb") as f:
        pickle.dump(value, f)


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
