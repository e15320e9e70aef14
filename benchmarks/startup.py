"""Start-up: wall time of `seqexp --help` and `seqexp train --cfg job` (and whether TensorFlow
was imported), and of a whole 1-step run (the fixed cost of a run), each in a fresh process."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from benchmarks.stats import run_measured, seqexp_command, summary

# `seqexp train --cfg job` in-process, then report which heavy modules it imported.
PROBE = """
import json, sys
from seqexp.cli import main
sys.argv = ["seqexp", "train", "--cfg", "job"]
try:
    main()
except SystemExit:
    pass
finally:
    print("IMPORTED=" + json.dumps({m: m in sys.modules for m in ("tensorflow", "keras")}))
"""


def one_step(run_dir: Path) -> list[str]:
    return [
        *seqexp_command(),
        "train",
        "experiment=smoke",
        "trainer.epochs=1",
        "trainer.steps_per_epoch=1",
        "trainer.validation_steps=1",
        "trainer.test_steps=1",
        "trainer.verbose=0",
        f"hydra.run.dir={run_dir}",
    ]


def run(size: str, folder: Path) -> dict:
    reps = 5 if size == "full" else 1
    commands = {
        "help": [*seqexp_command(), "--help"],
        "cfg_job": [*seqexp_command(), "train", "--cfg", "job"],
    }
    times = {name: [] for name in [*commands, "one_step_run"]}
    for _ in range(reps):
        for name, cmd in commands.items():
            result = run_measured(cmd)
            if result["returncode"] != 0:
                raise RuntimeError(f"{cmd} failed: {result['stderr']}")
            times[name].append(result["wall_s"])
    for rep in range(max(1, reps // 2 + 1)):  # 3 at full size: each one imports TensorFlow
        run_dir = folder / "startup" / f"one_step_{rep}"
        shutil.rmtree(run_dir, ignore_errors=True)  # a finished run there is refused, never trained over
        result = run_measured(one_step(run_dir))
        if result["returncode"] != 0:
            raise RuntimeError(f"the 1-step run failed: {result['stderr']}")
        times["one_step_run"].append(result["wall_s"])
    probe = run_measured([sys.executable, "-c", PROBE])
    line = next((x for x in probe["stdout"].splitlines() if x.startswith("IMPORTED=")), None)
    if line is None:
        raise RuntimeError(f"the import probe failed: {probe['stderr']}")
    imported = json.loads(line.removeprefix("IMPORTED="))
    return {
        "wall_s": {name: summary(v) for name, v in times.items()},
        "cfg_job_imports_tensorflow": imported["tensorflow"],
        "cfg_job_imports_keras": imported["keras"],
        "one_step_command": "seqexp train experiment=smoke trainer.epochs=1 "
        "trainer.steps_per_epoch=1 trainer.validation_steps=1 "
        "trainer.test_steps=1",
    }
