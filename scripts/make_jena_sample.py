"""Regenerate the bundled smoke-test sample: synthetic weather in the Jena CSV format.

    python scripts/make_jena_sample.py

The file is labelled synthetic in its name; it exists so that `seqexp train experiment=smoke`
runs offline in seconds. It is not the real Jena data.
"""

from pathlib import Path

from seqexp.data.synthetic import synthetic_weather, write_jena_csv

ROWS = 6000  # about 42 days

if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "seqexp" / "samples" / "jena_synthetic_sample.csv"
    write_jena_csv(out, synthetic_weather(ROWS, seed=2009))
    print(f"wrote {out} ({ROWS} rows)")
