"""samples.txt of a next-word run: greedy continuations of the configured prompts (WD 11-2)."""

from __future__ import annotations

import logging
from pathlib import Path

from seqexp.atomic import write_text
from seqexp.text.generate import continue_prompts, format_results
from seqexp.text.vocabulary import Vocabulary

log = logging.getLogger(__name__)


def samples(model, bundle, run_dir, prompts: list[str], words: int, preprocessing: dict) -> dict:
    """Greedy continuations of `prompts` by `words` words, written to samples.txt."""
    vocab = Vocabulary(bundle.spec.vocabulary, preprocessing)
    results = continue_prompts(model, vocab, prompts, words)
    text = format_results(results)
    write_text(Path(run_dir, "samples.txt"), text)
    log.info("Greedy continuations (samples.txt):\n%s", text.rstrip())
    return {r.prompt: r.text for r in results}
