"""Which runs `seqexp resume` may continue (seqexp.run.rundir.may_continue / check_resumable): a
killed or interrupted run, and a failure outside training (`"resumable": true`, e.g. a full
disk); never a finished run, nor one that failed in training (a nan loss would fail again)."""

from __future__ import annotations

import json

import pytest

from seqexp.errors import SeqexpError
from seqexp.run.rundir import check_resumable


@pytest.mark.parametrize(
    "report, may",
    [
        ({"status": "running"}, True),
        ({"status": "interrupted"}, True),
        ({"status": "failed", "reason": "OSError: disk full", "resumable": True}, True),
        ({"status": "failed", "reason": "nan loss: the loss became nan at epoch 2"}, False),
        ({"status": "failed", "reason": "x", "resumable": False}, False),
        ({"status": "completed"}, False),
        ({"status": "stopped early"}, False),
        ({"status": "pruned"}, False),
    ],
)
def test_what_resume_may_continue(tmp_path, report, may):
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "overrides.yaml").write_text("- model=gru\n")
    (tmp_path / "metrics.json").write_text(json.dumps(report))
    if may:
        assert check_resumable(tmp_path) == (["model=gru"], report["status"])
    else:
        with pytest.raises(
            SeqexpError, match=f"nothing to resume: it ended with status '{report['status']}'"
        ):
            check_resumable(tmp_path)
