"""The wheel carries what an installed `seqexp` needs: the config tree and the bundled sample."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from tests.conftest import PROJECT_ROOT


def test_wheel_ships_config_tree_and_sample(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(PROJECT_ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("seqexp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    configs = {p.relative_to(PROJECT_ROOT).as_posix() for p in (PROJECT_ROOT / "conf").rglob("*.yaml")}
    assert {f"seqexp/{c}" for c in configs} <= names  # every file of conf/, e.g. conf/train.yaml
    assert "seqexp/conf/train.yaml" in names and "seqexp/conf/data/jena.yaml" in names
    assert "seqexp/samples/jena_synthetic_sample.csv" in names
    assert "hydra_plugins/seqexp/sweeper.py" in names  # the sweeper conf/hydra/sweeper/seqexp.yaml names
