"""Text for next-word models (data=headlines, `seqexp generate`). Modules:

vocabulary  the texts' preprocessing, token <-> index, and the vocabulary.json a run writes
generate    `seqexp generate`: continue prompts with a trained run's best checkpoint
"""
