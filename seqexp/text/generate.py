"""`seqexp generate <run dir> prompt=how words=10`: continue prompts with a trained text model.

The run directory of a next-token run holds everything needed: `vocabulary.json` (the tokens, the
input length and the preprocessing the prompts must go through) and the run's best checkpoint.
Generation is WD's: feed the front-padded prompt, pick the next word, append it, repeat. Greedy
(the most likely word) by default; `temperature` > 0 or `top_k` sample instead, with a seed. All
prompts advance together, one batch per generated word.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from seqexp.config.types import MAX_WORDS
from seqexp.errors import SeqexpError
from seqexp.run.record import read_record, run_checkpoint
from seqexp.text.vocabulary import VOCABULARY_FILE, Vocabulary, load_vocabulary

log = logging.getLogger(__name__)


@dataclass
class Continuation:
    prompt: str
    known: list[str]
    unknown: list[str]
    generated: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join([*self.known, *self.generated])


def pick_next(probs: np.ndarray, temperature: float, top_k: int | None, rng) -> np.ndarray:
    """One index per row of `probs` ([n, vocab]); padding (index 0) is never chosen."""
    probs = np.asarray(probs, dtype=np.float64).copy()
    probs[:, 0] = 0.0
    if not temperature and not top_k:
        return probs.argmax(axis=1)
    logits = np.log(np.maximum(probs, 1e-300))
    # shifted to max 0 first: a tiny temperature sends the others to -inf, never max to inf - inf
    with np.errstate(over="ignore"):  # a tiny temperature: -inf for all but the likeliest
        logits = (logits - logits.max(axis=1, keepdims=True)) / (temperature or 1.0)
    if top_k:
        kth = np.sort(logits, axis=1)[:, -min(top_k, logits.shape[1] - 1)][:, None]
        logits = np.where(logits >= kth, logits, -np.inf)
    logits[:, 0] = -np.inf
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return np.array([rng.choice(len(row), p=row) for row in weights])


def continue_prompts(
    model,
    vocab: Vocabulary,
    prompts: Sequence[str],
    words: int,
    temperature: float = 0.0,
    top_k: int | None = None,
    seed: int = 0,
) -> list[Continuation]:
    """Append `words` words to every prompt that has a known word (the others stay as they are)."""
    import keras

    length = model.input_shape[1]
    results, ids = [], []
    for prompt in prompts:
        known_ids, unknown = vocab.encode(prompt)
        results.append(Continuation(prompt, [vocab.tokens[i] for i in known_ids], unknown))
        ids.append(known_ids)
    active = [i for i, seq in enumerate(ids) if seq]
    rng = np.random.default_rng(seed)
    for _ in range(words if active else 0):
        x = keras.utils.pad_sequences(
            [ids[i] for i in active], maxlen=length, padding="pre", truncating="pre", dtype="int32"
        )
        probs = keras.ops.convert_to_numpy(model(x, training=False))
        for i, token in zip(active, pick_next(probs, temperature, top_k, rng), strict=True):
            ids[i].append(int(token))
            results[i].generated.append(vocab.tokens[token])
    return results


def format_results(results: Sequence[Continuation]) -> str:
    """One line per prompt, after a `#` note when some prompt words are not in the vocabulary."""
    lines = []
    for r in results:
        if r.unknown:
            kept = f"continued from {' '.join(r.known)!r}" if r.known else "nothing to continue"
            lines.append(f"# prompt {r.prompt!r}: not in the vocabulary: {', '.join(r.unknown)} ({kept})")
        if r.known:
            lines.append(r.text)
    return "\n".join(lines) + "\n"


def _describe_run(run: Path) -> str:
    """What kind of run this is, from its metrics.json or composed config, for error messages."""
    record = read_record(run)
    if record is not None:
        return f"a data={record.data} / model={record.model} run (task {record.task})"
    config = run / ".hydra" / "config.yaml"
    if config.exists():
        target = OmegaConf.select(OmegaConf.load(config), "data._target_", default=None)
        if target:
            return f"a run of {target}"
    return "not a seqexp run directory"


def load_run(run: str | Path, checkpoint: str | None = None):
    """(model, vocabulary) of a next-token run directory, or a SeqexpError saying what's missing."""
    run = Path(str(run)).expanduser()
    if not run.is_dir():
        raise SeqexpError(
            f"run={run} is not a directory; give a run directory of `seqexp train "
            "data=headlines ...` (e.g. outputs/<date>/<time>_headlines_text_lstm)."
        )
    vocab_path = run / VOCABULARY_FILE
    if not vocab_path.exists():
        raise SeqexpError(
            f"run={run} holds no text model ({_describe_run(run)}): it has no {VOCABULARY_FILE}. "
            "seqexp generate needs a run of a next-word dataset such as data=headlines, which "
            f"writes {VOCABULARY_FILE} next to its checkpoint."
        )
    ckpt = run / (checkpoint or run_checkpoint(run))  # null: the one the run recorded
    if not ckpt.exists():
        raise SeqexpError(
            f"run={run} has no checkpoint at {ckpt}: the run stopped before its first checkpoint, "
            "or was trained with callbacks.checkpoint.enabled=false. Train again with checkpoints "
            "on, or point checkpoint=<path inside the run> at another .keras file."
        )
    saved = load_vocabulary(vocab_path)
    vocab = Vocabulary(saved["tokens"], saved.get("preprocessing"))
    import keras  # only now: the checks above answer without loading TensorFlow

    try:
        model = keras.models.load_model(ckpt, compile=False, safe_mode=True)
    except Exception as err:  # a truncated or foreign file: say which one
        raise SeqexpError(f"Could not load the checkpoint {ckpt}: {type(err).__name__}: {err}") from None
    units = model.output_shape[-1]
    if len(model.input_shape) != 2 or units != len(vocab.tokens):
        raise SeqexpError(
            f"The checkpoint {ckpt} is not a next-word model over the run's "
            f"{len(vocab.tokens)}-word "
            f"vocabulary: it maps input {model.input_shape} to output {model.output_shape}."
        )
    return model, vocab


def check_options(cfg: DictConfig) -> list[str]:
    if OmegaConf.is_missing(cfg, "run") or cfg.get("run") is None:
        raise SeqexpError(
            "seqexp generate needs a run directory, as its first argument: `seqexp generate "
            "<run dir> prompt=how words=10` (e.g. seqexp generate outputs/<date>/<time>_headlines_"
            "text_lstm prompt=how; several prompts: prompt='[how,new york]')."
        )
    if OmegaConf.is_missing(cfg, "prompt") or cfg.get("prompt") is None:
        raise SeqexpError(
            f"seqexp generate needs prompt=...: e.g. `seqexp generate {cfg.run} prompt=how words=10` "
            "(several prompts: prompt='[how,new york]')."
        )
    prompts = cfg.prompt if OmegaConf.is_list(cfg.prompt) else [cfg.prompt]
    prompts = [str(p) for p in prompts]
    if not prompts:
        raise SeqexpError("prompt=[] is empty; give at least one prompt, e.g. prompt=how.")
    if isinstance(cfg.words, bool) or not isinstance(cfg.words, int) or not 1 <= cfg.words <= MAX_WORDS:
        raise SeqexpError(
            f"words={cfg.words} must be a whole number from 1 to {MAX_WORDS} (words to append)."
        )
    temperature = cfg.temperature
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not math.isfinite(temperature)
        or temperature < 0
    ):  # nan and inf would turn every probability into nan
        raise SeqexpError(
            f"temperature={temperature} must be 0 (greedy) or a positive finite number, e.g. 0.7."
        )
    if cfg.top_k is not None and (
        isinstance(cfg.top_k, bool) or not isinstance(cfg.top_k, int) or cfg.top_k < 1
    ):
        raise SeqexpError(f"top_k={cfg.top_k} must be null (no limit) or a whole number >= 1.")
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int) or cfg.seed < 0:  # NumPy's rule
        raise SeqexpError(f"seed={cfg.seed} must be a whole number >= 0 (the sampling seed).")
    return prompts


def generate(cfg: DictConfig) -> list[Continuation]:
    """The `seqexp generate` job: print one continuation per prompt to stdout."""
    prompts = check_options(cfg)
    model, vocab = load_run(cfg.run, cfg.checkpoint)
    encoded = {p: vocab.encode(p) for p in prompts}
    hopeless = [p for p, (ids, _) in encoded.items() if not ids]
    if hopeless:
        raise SeqexpError(
            f"No word of prompt(s) {hopeless} is in the vocabulary of run={cfg.run} "
            f"({len(vocab.tokens) - 1} words after its preprocessing {vocab.preprocessing}); "
            "use words the model was trained on."
        )
    sampling = (
        "greedy"
        if not cfg.temperature and not cfg.top_k
        else (f"sampling, temperature {cfg.temperature or 1.0}, top_k {cfg.top_k}, seed {cfg.seed}")
    )
    log.info(
        "Continuing %d prompt(s) by %d words (%s) with %s",
        len(prompts),
        cfg.words,
        sampling,
        Path(str(cfg.run)) / (cfg.checkpoint or run_checkpoint(cfg.run)),
    )
    results = continue_prompts(model, vocab, prompts, cfg.words, cfg.temperature, cfg.top_k, cfg.seed)
    print(format_results(results), end="", flush=True)
    return results
