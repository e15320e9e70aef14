"""fetch(): the real download path (keras.utils.get_file) exercised with file:// URLs."""

from __future__ import annotations

import hashlib

import pytest

from seqexp.data.download import cache_root, fetch
from seqexp.errors import SeqexpError


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "server" / "data.zip"
    path.parent.mkdir()
    path.write_bytes(b"jena bytes " * 100)
    return path


def test_downloads_once_records_hash_and_reuses_cache(tmp_path, source):
    cache = tmp_path / "cache"
    got = fetch(source.as_uri(), "data.zip", size=1100, cache_dir=cache)
    assert got == cache / "data.zip" and got.read_bytes() == source.read_bytes()
    recorded = (cache / "data.zip.sha256").read_text().strip()
    assert recorded == hashlib.sha256(source.read_bytes()).hexdigest()
    assert not (cache / "data.zip.part").exists()

    source.unlink()  # the cached copy is used without touching the network
    assert fetch(source.as_uri(), "data.zip", size=1100, cache_dir=cache) == got


def test_damaged_cache_is_moved_aside_and_downloaded_again(tmp_path, source):
    cache = tmp_path / "cache"
    fetch(source.as_uri(), "data.zip", cache_dir=cache)
    tampered = b"jena bytes " * 99 + b"tampered!!!"  # same size, another sha256 than recorded
    (cache / "data.zip").write_bytes(tampered)
    assert fetch(source.as_uri(), "data.zip", cache_dir=cache).read_bytes() == source.read_bytes()
    assert (cache / "data.zip.corrupt").read_bytes() == tampered  # kept for a look, never used


def test_a_download_that_differs_from_the_recorded_hash_is_refused(tmp_path, source):
    cache = tmp_path / "cache"
    fetch(source.as_uri(), "data.zip", cache_dir=cache)
    (cache / "data.zip").unlink()
    source.write_bytes(b"other bytes")
    with pytest.raises(
        SeqexpError,
        match=r"recorded in .*data.zip.sha256 at the first download.*"
        r"delete .*data.zip.sha256 to accept it",
    ):
        fetch(source.as_uri(), "data.zip", cache_dir=cache)
    assert sorted(p.name for p in cache.iterdir()) == ["data.zip.sha256"]


def test_subdir_and_offline_message_after_a_damaged_copy(tmp_path):
    cache = tmp_path / "cache"
    (cache / "sub").mkdir(parents=True)
    (cache / "sub" / "f.gz").write_bytes(b"short")
    with pytest.raises(SeqexpError) as err:
        fetch(
            "http://127.0.0.1:9/f.gz",
            "f.gz",
            size=100,
            cache_dir=cache,
            subdir="sub",
            how_to_provide="pass data.path=/folder",
        )
    message = str(err.value)
    assert (
        f"The cached copy at {cache / 'sub' / 'f.gz'} was damaged (it has 5 bytes, expected 100)" in message
    )
    assert f"moved to {cache / 'sub' / 'f.gz.corrupt'} and not used" in message
    assert "to a folder that holds sub/f.gz" in message and message.endswith("data.path=/folder.")
    assert sorted(p.name for p in (cache / "sub").iterdir()) == ["f.gz.corrupt"]


def test_pinned_hash_mismatch_leaves_nothing_in_cache(tmp_path, source):
    cache = tmp_path / "cache"
    with pytest.raises(SeqexpError, match=r"not the expected file: its sha256 is [0-9a-f]{64}, expected 0+"):
        fetch(source.as_uri(), "data.zip", sha256="0" * 64, cache_dir=cache)
    assert list(cache.iterdir()) == []


def test_offline_error_says_what_is_missing_and_how_to_provide_it(tmp_path):
    url = "http://127.0.0.1:9/jena_climate_2009_2016.csv.zip"  # nothing listens on port 9
    with pytest.raises(SeqexpError) as err:
        fetch(
            url,
            "jena_climate_2009_2016.csv.zip",
            cache_dir=tmp_path,
            how_to_provide="pass data.path=/path/to/jena_climate_2009_2016.csv.zip",
        )
    message = str(err.value)
    assert "Could not download jena_climate_2009_2016.csv.zip from " + url in message
    assert str(tmp_path / "jena_climate_2009_2016.csv.zip") in message
    assert "SEQEXP_CACHE_DIR" in message and "data.path=/path/to/" in message
    assert list(tmp_path.iterdir()) == []  # no half-written file


def test_cache_root_follows_env_then_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQEXP_CACHE_DIR", str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    assert cache_root(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv("SEQEXP_CACHE_DIR")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert cache_root() == tmp_path / "kh" / "datasets"
