"""Using a trained run: `seqexp predict` on new inputs, `seqexp export` to serving formats."""
