"""Bad data files through the real `seqexp train` path: exit code 2, one paragraph naming the file,
the place and what was expected, no traceback, and no run artefact that claims success.

Each case writes a small file in the real on-disk format, then breaks one thing in it. The CLI
runs in-process (tests/badinput.py) so the table stays fast; two cases also run as a real
subprocess.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from seqexp.data.download import sha256_of
from seqexp.data.synthetic import synthetic_weather, write_jena_csv
from tests.badinput import assert_no_success, run_cli
from tests.conftest import TINY_JENA
from tests.data.imdb_files import (
    ragged,
    write_glove,
    write_sentiment_npz,
    write_toy_aclimdb,
)
from tests.data.test_fashion_mnist import FILES, idx_bytes, write_fashion, write_gz
from tests.data.test_headlines import write_articles

OFFLINE = "http://127.0.0.1:9"  # nothing listens on port 9: a download fails at once
JENA_ZIP = "jena_climate_2009_2016.csv.zip"
TINY_IMDB = ["data=imdb", "data.maxlen=20", "trainer.epochs=1", "trainer.steps_per_epoch=1"]
TINY_RAW = [
    "data=imdb-raw",
    "data.training_samples=8",
    "data.validation_samples=null",
    "data.maxlen=10",
    "trainer.epochs=1",
    "trainer.steps_per_epoch=1",
]
TINY_FASHION = ["data=fashion-mnist", "model=cnn", "trainer.epochs=1", "trainer.steps_per_epoch=1"]
TINY_HEADLINES = ["data=headlines", "model=text_lstm", "trainer.epochs=1", "trainer.steps_per_epoch=1"]


@dataclass
class Case:
    """`make(tmp_path)` writes the bad input and returns (overrides, {name: path}); every key word
    of `words` (formatted with those names) must be in the message."""

    id: str
    make: Callable[[Path], tuple[list[str], dict]]
    words: tuple[str, ...]


# --- writers ------------------------------------------------------------------------------------


def jena_file(tmp_path: Path, rows: int = 600, name: str = "jena_climate_2009_2016.csv") -> Path:
    return write_jena_csv(tmp_path / name, synthetic_weather(rows, seed=3))


def edit_line(path: Path, number: int, edit: Callable[[list[str]], list[str]]) -> Path:
    """Rewrite line `number` (1 = the header) of a csv, field by field."""
    lines = path.read_text().splitlines()
    lines[number - 1] = ",".join(edit(lines[number - 1].split(",")))
    path.write_text("\n".join(lines) + "\n")
    return path


def jena(edit: Callable[[Path], Path], *extra: str):
    def make(tmp_path):
        path = edit(jena_file(tmp_path))
        return [f"data.path={path}", *TINY_JENA, *extra], {"file": path}

    return make


def set_field(number: int, column: int, value: str):
    def edit(path):
        return edit_line(path, number, lambda f: [*f[:column], value, *f[column + 1 :]])

    return edit


def header_only(path):
    path.write_text(path.read_text().splitlines()[0] + "\n")
    return path


def binary_garbage(path):
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe" * 10)
    return path


def jena_zip_without_csv(tmp_path):
    path = tmp_path / JENA_ZIP
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "no data here")
    return [f"data.path={path}", *TINY_JENA], {"file": path}


def jena_truncated_zip(tmp_path):
    csv_path = jena_file(tmp_path)
    path = tmp_path / JENA_ZIP
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(csv_path, csv_path.name)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return [f"data.path={path}", *TINY_JENA], {"file": path}


def imdb(arrays: Callable[[], dict], *extra: str):
    def make(tmp_path):
        x_train, y_train = [[5, 6, 7], [8, 9], [10, 11, 12], [13]], [0, 1, 0, 1]
        good = {
            "x_train": ragged(x_train),
            "y_train": np.array(y_train),
            "x_test": ragged([[5, 6], [7]]),
            "y_test": np.array([1, 0]),
        }
        path = tmp_path / "imdb.npz"
        np.savez(path, **{**good, **arrays()})
        return [*TINY_IMDB, f"data.path={path}", *extra], {"file": path}

    return make


def imdb_without_y_test(tmp_path):
    path = tmp_path / "imdb.npz"
    np.savez(path, x_train=ragged([[5, 6]]), y_train=np.array([1]), x_test=ragged([[5]]))
    return [*TINY_IMDB, f"data.path={path}"], {"file": path}


def imdb_truncated(tmp_path):
    path = write_sentiment_npz(tmp_path)
    path.write_bytes(path.read_bytes()[:1000])
    return [*TINY_IMDB, f"data.path={path}", "data.word_index=null"], {"file": path}


def imdb_text_file(tmp_path):
    path = tmp_path / "imdb.npz"
    path.write_text("x_train,y_train\n1 2 3,1\n")
    return [*TINY_IMDB, f"data.path={path}"], {"file": path}


def imdb_bad_word_index(tmp_path):
    path = write_sentiment_npz(tmp_path)
    (tmp_path / "imdb_word_index.json").write_text('{"the": 1, "and": ')  # cut short
    return [*TINY_IMDB, f"data.path={path}"], {"file": tmp_path / "imdb_word_index.json"}


def acl(edit: Callable[[Path], dict]):
    def make(tmp_path):
        root = write_toy_aclimdb(tmp_path, n=6, n_test=2)
        return [*TINY_RAW, f"data.path={root}"], {"root": root, **edit(root)}

    return make


def acl_without_train_pos(root):
    for review in (root / "train" / "pos").iterdir():
        review.unlink()
    (root / "train" / "pos").rmdir()
    return {"folder": root / "train"}


def acl_empty_train_neg(root):
    for review in (root / "train" / "neg").iterdir():
        review.unlink()
    return {"folder": root / "train" / "neg"}


def acl_latin1_review(root):
    path = root / "train" / "pos" / "3_8.txt"
    path.write_bytes("A caf\xe9 of a film, tr\xe8s bien.".encode("latin-1"))
    return {"file": path}


def acl_a_file(tmp_path):
    path = tmp_path / "aclImdb_v1.tar.gz"
    path.write_bytes(gzip.compress(b"not a tar"))
    return [*TINY_RAW, f"data.path={path}"], {"file": path}


def fashion(edit: Callable[[Path], Path]):
    def make(tmp_path):
        write_fashion(tmp_path, n_train=20, n_test=10)
        path = edit(tmp_path)
        return [*TINY_FASHION, f"data.path={tmp_path}"], {"file": path}

    return make


def swapped_images(folder):  # the labels file under the images' name
    path = folder / FILES["train_images"]
    path.write_bytes((folder / FILES["train_labels"]).read_bytes())
    return path


def truncated_images(folder):
    path = folder / FILES["test_images"]
    write_gz(path, gzip.decompress(path.read_bytes())[: -28 * 28 * 3])
    return path


def cut_gzip(folder):
    path = folder / FILES["train_labels"]
    path.write_bytes(path.read_bytes()[:-12])
    return path


def label_out_of_range(folder):
    path = folder / FILES["test_labels"]
    write_gz(path, idx_bytes(np.full(10, 12, dtype=np.uint8)))
    return path


def fewer_labels(folder):
    path = folder / FILES["test_labels"]
    write_gz(path, idx_bytes(np.zeros(7, dtype=np.uint8)))
    return path


def headlines(write: Callable[[Path], Path], *extra: str):
    def make(tmp_path):
        path = write(tmp_path / "ArticlesJan2017.csv")
        return [*TINY_HEADLINES, f"data.path={path}", *extra], {"file": path}

    return make


def articles_without_headline_column(path):
    path.write_text("articleID,title,snippet\n1,Cats chase dogs,a snippet\n")
    return path


def only_unknown_and_one_word(path):
    return write_articles(path, ["Unknown", "Unknown", "Dogs!", "Unknown"])


def empty_file(path):
    path.write_bytes(b"")
    return path


def latin1_articles(path):
    write_articles(path, ["Cats chase dogs", "New rules for dogs"])
    text = path.read_text(encoding="utf-8").replace("New rules", "Caf\xe9 rules")
    path.write_bytes(text.encode("latin-1", errors="replace"))
    return path


def unclosed_quote(path):
    write_articles(path, ["Cats chase dogs", "New rules for dogs"])
    with open(path, "a", encoding="utf-8") as f:  # a quote that never closes swallows the rest
        f.write('5adf,1,"By X,' + "word " * 30000 + "\n")
    return path


def glove(lines: str, *extra: str):
    def make(tmp_path):
        root = write_toy_aclimdb(tmp_path, n=6, n_test=2)
        path = tmp_path / "glove.test.3d.txt"
        path.write_text(lines, encoding="utf-8")
        return [
            *TINY_RAW,
            f"data.path={root}",
            "model=embedding_flatten",
            f"model.embedding.pretrained={path}",
            "model.embedding.dim=null",
            *extra,
        ], {"file": path}

    return make


def glove_zip_cut(tmp_path):
    root = write_toy_aclimdb(tmp_path, n=6, n_test=2)
    lines = {f"w{i}": [0.1 * i, 0.2, 0.3] for i in range(3000)}
    path = write_glove(tmp_path / "glove.zip", lines, as_zip_member="glove.test.3d.txt")
    data = path.read_bytes()
    cut = data.index(b"PK\x01\x02")  # keep the central directory, damage the compressed data
    path.write_bytes(data[:200] + bytes(x ^ 0xFF for x in data[200 : cut - 200]) + data[cut - 200 :])
    return [
        *TINY_RAW,
        f"data.path={root}",
        "model=embedding_flatten",
        f"model.embedding.pretrained={path}",
        "model.embedding.dim=null",
    ], {"file": path}


def offline_jena(tmp_path):
    cache = tmp_path / "cache"
    return [*TINY_JENA, f"data.cache_dir={cache}", f"data.url={OFFLINE}/{JENA_ZIP}"], {
        "cache": cache / JENA_ZIP,
        "url": f"{OFFLINE}/{JENA_ZIP}",
    }


def offline_fashion(tmp_path):
    cache = tmp_path / "cache"
    return [*TINY_FASHION, f"data.cache_dir={cache}", f"data.base_url={OFFLINE}"], {
        "cache": cache / "fashion-mnist" / FILES["train_images"]
    }


CASES = [
    # --- jena
    Case("jena-wrong-header", jena(set_field(1, 0, '"Time"')),
         ("{file}", "not a Jena climate CSV", "line 1", '"Date Time"', "'Time'")),
    Case("jena-non-numeric-cell", jena(set_field(7, 2, "n/a")),
         ("{file} line 7", "'T (degC)'", "'n/a' is not a number")),
    Case("jena-short-row", jena(lambda p: edit_line(p, 12, lambda f: f[:10])),
         ("{file} line 12", "10 fields, expected 15")),
    Case("jena-empty-cell", jena(set_field(30, 5, "")),
         ("{file} line 30", "'rh (%)'", "'' is not a number")),
    Case("jena-nan-value", jena(set_field(40, 1, "nan")),
         ("{file} line 40", "'p (mbar)'", "finite number")),
    Case("jena-too-few-rows-for-split", jena(lambda p: p),  # 600 rows, split asks for 1000+
         ("data.split.train=[0, 1000]", "600 rows of {file}")),
    Case("jena-too-few-rows-for-windows",
         jena(lambda p: p, "data.split.train=[0,300]", "data.split.val=[300,560]",
              "data.split.test=[560,null]"),  # the open end: 40 rows, lookback 240
         ("test rows [560, 600) hold no window", "data.lookback=240",
          "{file} (600 rows, data.windows=dlwp1)")),
    Case("jena-header-only", jena(header_only),
         ("{file} has a header but no data rows",)),
    Case("jena-binary-file", jena(binary_garbage),
         ("{file} is not a text CSV", "line 1 is not UTF-8")),
    Case("jena-zip-without-csv", jena_zip_without_csv,
         ("{file} is a zip file without a .csv", "readme.txt")),
    Case("jena-truncated-zip", jena_truncated_zip, ("{file} is a damaged or truncated zip",)),
    Case("jena-folder", lambda t: ([f"data.path={t}", *TINY_JENA], {"file": t}),
         ("data.path={file} is a folder",)),
    # --- imdb (imdb.npz)
    Case("imdb-missing-key", imdb_without_y_test,
         ("{file} is not an imdb.npz", "lacks ['y_test']", "x_train")),
    Case("imdb-truncated-npz", imdb_truncated, ("{file} is not a readable imdb.npz",)),
    Case("imdb-text-file", imdb_text_file, ("{file} is not a readable imdb.npz", "x_train")),
    Case("imdb-label-out-of-range",
         imdb(lambda: {"y_train": np.array([0, 1, 3, 1])}),
         ("{file}: y_train[2] is 3", "0 (negative) or 1 (positive)")),
    Case("imdb-label-count",
         imdb(lambda: {"y_test": np.array([1, 0, 1])}),
         ("{file}: x_test holds 2 reviews but y_test has shape (3,)",)),
    Case("imdb-review-not-ints",
         imdb(lambda: {"x_train": ragged([[5, 6], ["great", "film"], [7], [8]])}),
         ("{file}: x_train[1] is not a list of integer word indices",)),
    Case("imdb-negative-index",
         imdb(lambda: {"x_test": ragged([[5, -3], [7]])}),
         ("{file}: x_test[0] holds the negative word index -3",)),
    Case("imdb-word-index-cut", imdb_bad_word_index,
         ("data.word_index={file} is not a readable word-index json",)),
    # --- imdb-raw (aclImdb folder)
    Case("aclimdb-without-train-pos", acl(acl_without_train_pos),
         ("{folder} has no pos folder", "train/ and test/", "neg/ and pos/")),
    Case("aclimdb-empty-train-neg", acl(acl_empty_train_neg),
         ("{folder} holds no .txt review file",)),
    Case("aclimdb-latin1-review", acl(acl_latin1_review), ("{file} is not UTF-8 text",)),
    Case("aclimdb-archive-as-path", acl_a_file,
         ("data.path={file} is not a folder", "extracted aclImdb")),
    # --- fashion-mnist (IDX files)
    Case("idx-wrong-magic", fashion(swapped_images),
         ("{file} is not an IDX images file", "magic number is 0x00000801",
          "expected 0x00000803")),
    Case("idx-truncated-body", fashion(truncated_images),
         ("{file} is truncated or padded", "shape (10, 28, 28)", "7,840 bytes")),
    Case("idx-cut-gzip", fashion(cut_gzip), ("{file} is a damaged or truncated gzip",)),
    Case("idx-label-out-of-range", fashion(label_out_of_range),
         ("{file} has label 12", "10 classes")),
    Case("idx-label-count", fashion(fewer_labels), ("holds 10 images but {file} holds 7 labels",)),
    # --- headlines (NYT Articles csv)
    Case("headlines-no-column", headlines(articles_without_headline_column),
         ("data.column='headline' is not a column of {file}", "'title'")),
    Case("headlines-no-usable-headline", headlines(only_unknown_and_one_word),
         ("No usable headline", "{file}", "of 4 rows, 1 are left", "two or more words")),
    Case("headlines-empty-file", headlines(empty_file), ("{file} is empty",)),
    Case("headlines-latin1", headlines(latin1_articles), ("{file} line 3 is not UTF-8",)),
    Case("headlines-unclosed-quote", headlines(unclosed_quote),
         ("{file}: the record that starts on line 4 is not valid CSV", "field larger than field limit")),
    # --- GloVe (model.embedding.pretrained)
    Case("glove-inconsistent-dims", glove("the 0.1 0.2 0.3\ngreat 0.4 0.5\nawful 0.1 0.2 0.3\n"),
         ("{file} line 2 has 2 values for 'great', expected 3", "inconsistent dimensions")),
    Case("glove-word2vec-header", glove("3 3\nthe 0.1 0.2 0.3\n"),
         ("{file} line 2 has 3 values", "word2vec header")),
    Case("glove-non-numeric", glove("the 0.1 0.2 0.3\ngreat 0.4 x 0.6\n"),
         ("{file} line 2", "'great'", "'x', which is not a number")),
    Case("glove-empty", glove(""), ("{file} is empty",)),
    Case("glove-damaged-zip", glove_zip_cut, ("{file}:glove.test.3d.txt is damaged",)),
    # --- the cache, offline
    Case("offline-no-cache", offline_jena,
         (f"Could not download {JENA_ZIP} from {{url}}", "No copy was found in the cache at {cache}",
          "data.path=/path/to/" + JENA_ZIP)),
    Case("offline-fashion-no-cache", offline_fashion,
         ("Could not download train-images-idx3-ubyte.gz", "{cache}",
          "holds fashion-mnist/train-images-idx3-ubyte.gz", "data.path=")),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_data_file_is_a_clear_error(case, tmp_path, capsys):
    overrides, names = case.make(tmp_path)
    run_dir = tmp_path / "run"
    code, stderr = run_cli(["train", *overrides, f"hydra.run.dir={run_dir}"], capsys)
    assert code == 2, stderr
    assert stderr.startswith("seqexp: error: ") and "Traceback" not in stderr, stderr
    message = stderr.removeprefix("seqexp: error: ").strip()
    assert "\n" not in message, f"not one paragraph: {message}"
    for word in case.words:
        assert word.format(**names) in message, f"{word.format(**names)!r} not in {message!r}"
    assert_no_success(run_dir)
    assert message in (run_dir / "train.log").read_text()  # also recorded in the run's log


def test_at_least_fifteen_distinct_bad_data_inputs():
    assert len({case.id for case in CASES}) == len(CASES) >= 15
    kinds = {case.id.split("-")[0] for case in CASES}
    assert {"jena", "imdb", "aclimdb", "idx", "headlines", "glove", "offline"} <= kinds


def corrupt_cache(tmp_path: Path) -> tuple[Path, Path, str, bytes]:
    """A cache holding a Jena zip whose sha256 is not the pinned one; returns cache, source, hash."""
    source = tmp_path / "server" / JENA_ZIP
    source.parent.mkdir()
    csv_path = jena_file(tmp_path, rows=1800)
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(csv_path, csv_path.name)
    cache = tmp_path / "cache"
    cache.mkdir()
    damaged = bytearray(source.read_bytes())
    damaged[100] ^= 0xFF  # one flipped byte: same size, another hash
    (cache / JENA_ZIP).write_bytes(bytes(damaged))
    return cache, source, sha256_of(source), bytes(damaged)


def test_corrupt_cache_offline_is_moved_aside_and_explained(tmp_path, capsys):
    cache, _, sha256, damaged = corrupt_cache(tmp_path)
    run_dir = tmp_path / "run"
    code, stderr = run_cli(
        [
            "train",
            *TINY_JENA,
            f"data.cache_dir={cache}",
            f"data.url={OFFLINE}/{JENA_ZIP}",
            f"data.sha256={sha256}",
            "data.size=null",
            f"hydra.run.dir={run_dir}",
        ],
        capsys,
    )
    assert code == 2 and "Traceback" not in stderr
    aside = cache / (JENA_ZIP + ".corrupt")
    assert not (cache / JENA_ZIP).exists() and aside.read_bytes() == damaged  # kept, not used
    for words in (
        f"The cached copy at {cache / JENA_ZIP} was damaged (its sha256 is ",
        f"expected {sha256})",
        f"moved to {aside} and not used",
        f"Could not download {JENA_ZIP} from {OFFLINE}/{JENA_ZIP}",
        f"copy an intact {JENA_ZIP} to {cache / JENA_ZIP}",
        f"data.path=/path/to/{JENA_ZIP}",
    ):
        assert words in stderr, (words, stderr)
    assert_no_success(run_dir)
    assert f"moved to {aside}" in (run_dir / "train.log").read_text()  # the warning is logged

    # A second damaged copy does not overwrite the first one set aside.
    (cache / JENA_ZIP).write_bytes(b"x" * 10)
    code, stderr = run_cli(
        [
            "train",
            *TINY_JENA,
            f"data.cache_dir={cache}",
            f"data.url={OFFLINE}/{JENA_ZIP}",
            f"data.sha256={sha256}",
            "data.size=null",
            f"hydra.run.dir={tmp_path / 'run2'}",
        ],
        capsys,
    )
    assert code == 2 and f"moved to {aside}.1" in stderr
    assert aside.read_bytes() == damaged and Path(f"{aside}.1").read_bytes() == b"x" * 10


def test_corrupt_cache_online_is_fetched_again_and_used(tmp_path, capsys):
    cache, source, sha256, damaged = corrupt_cache(tmp_path)
    run_dir = tmp_path / "run"
    code, stderr = run_cli(
        [
            "train",
            *TINY_JENA,
            f"data.cache_dir={cache}",
            f"data.url={source.as_uri()}",
            f"data.sha256={sha256}",
            "data.size=null",
            f"hydra.run.dir={run_dir}",
        ],
        capsys,
    )
    assert code == 0, stderr
    assert (cache / JENA_ZIP).read_bytes() == source.read_bytes()
    assert (cache / (JENA_ZIP + ".corrupt")).read_bytes() == damaged
    assert not list(cache.glob("*.part"))
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "completed"
    log = (run_dir / "train.log").read_text()
    assert f"Cached {cache / JENA_ZIP} is damaged" in log and "downloading it again" in log


def seqexp(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-m", "seqexp.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_real_command_names_the_bad_cell(tmp_path):
    """The same error from the real entry point, in a fresh interpreter."""
    path = set_field(9, 3, "abc")(jena_file(tmp_path))
    result = seqexp(
        "train",
        f"data.path={path}",
        *TINY_JENA,
        f"hydra.run.dir={tmp_path / 'run'}",
        "trainer.verbose=0",
        "callbacks.tensorboard.enabled=false",
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert f"seqexp: error: {path} line 9, column 'Tpot (K)': 'abc' is not a number" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert_no_success(tmp_path / "run")


# --- files from another OS or program: a byte-order mark, CRLF or CR line ends, another encoding ---
#
# Each variant of a good file reads back exactly as the original does (BOM and line ends); a file in
# another encoding is named with the line and what to do (the CASES above: jena-binary-file,
# aclimdb-latin1-review, headlines-latin1, and jena-latin1-header / glove-latin1 below).

BOM = b"\xef\xbb\xbf"
VARIANTS = {
    "bom": lambda data: BOM + data,
    "crlf": lambda data: data.replace(b"\n", b"\r\n"),
    "bom-crlf": lambda data: BOM + data.replace(b"\n", b"\r\n"),
    "cr": lambda data: data.replace(b"\n", b"\r"),  # classic Mac OS
}


def variant_of(path: Path, variant: str, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    copy = folder / path.name
    copy.write_bytes(VARIANTS[variant](path.read_bytes()))
    return copy


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_jena_csv_from_another_program_reads_the_same(tmp_path, variant):
    from seqexp.data.jena import read_jena

    good = jena_file(tmp_path, rows=50)
    columns, values = read_jena(good)
    other = variant_of(good, variant, tmp_path / variant)
    other_columns, other_values = read_jena(other)
    assert other_columns == columns and np.array_equal(other_values, values)
    zipped = tmp_path / variant / JENA_ZIP  # the same bytes inside the zip
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("jena_climate_2009_2016.csv", other.read_bytes())
    assert np.array_equal(read_jena(zipped)[1], values)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "cr"])  # csv needs \n or \r\n
def test_an_nyt_articles_csv_from_another_program_reads_the_same(tmp_path, variant):
    from seqexp.data.headlines import read_column

    good = write_articles(tmp_path / "ArticlesJan2017.csv", ["Cats chase dogs", 'A "quoted", headline'])
    other = variant_of(good, variant, tmp_path / variant)
    assert read_column([other], "headline") == read_column([good], "headline")
    assert read_column([other], "articleID") == read_column([good], "articleID")  # the first column


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "cr"])  # GloVe lines end in \n
def test_a_glove_file_from_another_program_reads_the_same(tmp_path, variant):
    from seqexp.models.glove import glove_matrix

    vectors = {"the": [0.1, 0.2, 0.3], "great": [0.4, 0.5, 0.6], "awful": [-0.1, 0.0, 0.9]}
    good = write_glove(tmp_path / "glove.test.3d.txt", vectors)
    vocabulary = ["", "[UNK]", "the", "great", "awful", "unseen"]
    matrix, facts = glove_matrix(str(good), vocabulary)
    other_matrix, other_facts = glove_matrix(str(variant_of(good, variant, tmp_path / variant)), vocabulary)
    assert np.array_equal(other_matrix, matrix)
    assert {**other_facts, "source": None} == {**facts, "source": None}  # the same words found
    assert np.allclose(other_matrix[2], vectors["the"])  # the first word, after the mark


@pytest.mark.parametrize("variant", ["bom", "crlf", "bom-crlf"])
def test_aclimdb_reviews_from_another_program_read_the_same(tmp_path, variant):
    from seqexp.data.imdb_raw import read_reviews

    root = write_toy_aclimdb(tmp_path / "good", n=4, n_test=2)
    texts, labels = read_reviews(root / "train")
    for review in (root / "train").rglob("*.txt"):
        review.write_bytes(VARIANTS[variant](review.read_bytes() + b"\nsecond line\n"))
    other_texts, other_labels = read_reviews(root / "train")
    assert np.array_equal(other_labels, labels)
    for text, other in zip(texts, other_texts, strict=True):
        assert not other.startswith(BOM)
        assert other.replace(b"\r\n", b"\n") == text + b"\nsecond line\n"


def test_a_jena_csv_in_latin1_is_named_with_how_to_fix_it(tmp_path, capsys):
    path = jena_file(tmp_path)
    text = path.read_text().replace('"T (degC)"', '"T (\xb0C)"')  # Excel's degree sign, saved as latin-1
    path.write_bytes(text.encode("latin-1"))
    code, err = run_cli(
        ["train", f"data.path={path}", *TINY_JENA, f"hydra.run.dir={tmp_path / 'run'}"], capsys
    )
    assert code == 2 and "Traceback" not in err
    assert f"{path} is not a text CSV: line 1 is not UTF-8" in err
    assert "latin-1 or Windows-1252, must be re-saved as UTF-8" in err


def test_a_glove_file_in_latin1_is_named_by_line(tmp_path):
    from seqexp.errors import SeqexpError
    from seqexp.models.glove import glove_matrix

    path = tmp_path / "glove.test.3d.txt"
    path.write_bytes("the 0.1 0.2 0.3\ncaf\xe9 0.4 0.5 0.6\n".encode("latin-1"))
    with pytest.raises(SeqexpError, match=rf"{path} line 2 is not UTF-8 text"):
        glove_matrix(str(path), ["", "[UNK]", "the", "café"])
