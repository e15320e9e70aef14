"""Peak memory, each in its own process (peak RSS from wait4): a full-size Jena run (420,551
rows, lookback 1440: the windows are gathered per batch, never materialised) and the
tokenisation of 50,000 synthetic aclImdb reviews by data=imdb-raw (with its time)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from benchmarks import fixtures
from benchmarks.stats import run_measured, seqexp_command
from benchmarks.training import JENA_ROWS, TINY_JENA

# load_imdb_raw as `seqexp train data=imdb-raw` calls it, timed; every review of train/ (the
# vocabulary too) and of test/ is tokenised.
TOKENISE = """
import json, sys, time
from seqexp.data.imdb_raw import load_imdb_raw
per_split = int(sys.argv[2])
start = time.perf_counter()
bundle = load_imdb_raw(path=sys.argv[1], url="", sha256=None, size=None, cache_dir=None,
                       training_samples=per_split - per_split // 5, validation_samples=per_split // 5,
                       test_samples=None, vocabulary_from="train_folder", maxlen=500, max_tokens=10000,
                       padding="pre", truncating="pre", standardize="lower_and_strip_punctuation",
                       batch_size=32, seed=0)
seconds = time.perf_counter() - start
print("RESULT=" + json.dumps({"seconds": seconds, "reviews": sum(bundle.spec.info["reviews"].values())}))
"""


def run(size: str, folder: Path) -> dict:
    full = size == "full"
    jena = fixtures.jena_csv(folder, JENA_ROWS if full else 4000)
    steps = 20 if full else 2
    cmd = [
        *seqexp_command(),
        "train",
        "data=jena",
        "model=lstm",
        f"data.path={jena}",
        *([] if full else TINY_JENA),
        "trainer.epochs=1",
        f"trainer.steps_per_epoch={steps}",
        f"trainer.validation_steps={steps}",
        f"trainer.test_steps={steps}",
        "trainer.verbose=0",
        f"hydra.run.dir={folder / 'memory' / 'jena_run'}",
    ]
    shutil.rmtree(folder / "memory", ignore_errors=True)
    jena_run = run_measured(cmd)
    if jena_run["returncode"] != 0:
        raise RuntimeError(f"the Jena run failed: {jena_run['stderr']}")

    per_split = 25_000 if full else 200
    acl = fixtures.aclimdb(folder, per_split)
    tok = run_measured([sys.executable, "-c", TOKENISE, str(acl), str(per_split)])
    line = next((x for x in tok["stdout"].splitlines() if x.startswith("RESULT=")), None)
    if tok["returncode"] != 0 or line is None:
        raise RuntimeError(f"the imdb-raw tokenisation failed: {tok['stderr']}")
    result = json.loads(line.removeprefix("RESULT="))
    return {
        "jena_run": {
            "rows": JENA_ROWS if full else 4000,
            "lookback": 1440 if full else 240,
            "model": "lstm",
            "steps": steps,
            "validation_steps": steps,
            "test_steps": steps,
            "peak_rss_gb": jena_run["peak_rss_bytes"] / 1e9,
            "wall_s": jena_run["wall_s"],
        },
        "imdb_raw_tokenisation": {
            "reviews": result["reviews"],
            "maxlen": 500,
            "seconds": result["seconds"],
            "peak_rss_gb": tok["peak_rss_bytes"] / 1e9,
        },
    }
