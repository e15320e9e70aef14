"""seqexp's pure-Python TensorBoard writer (a JAX run has no tf.summary), read back by
TensorBoard's own reader: each scalar at the step and with the value given."""

from __future__ import annotations

import pytest

from seqexp.run.tb_events import EventWriter


def test_scalars_read_back_at_their_steps(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    writer = EventWriter(tmp_path / "train")
    for step, value in ((1, 0.9), (2, 0.7), (3, 0.65)):
        writer.scalar("epoch_loss", value, step)
    writer.close()
    board = EventAccumulator(str(tmp_path / "train"), size_guidance={"tensors": 0}).Reload()
    events = board.Tensors("epoch_loss")
    assert [e.step for e in events] == [1, 2, 3]
    assert [float(e.tensor_proto.float_val[0]) for e in events] == pytest.approx([0.9, 0.7, 0.65])
