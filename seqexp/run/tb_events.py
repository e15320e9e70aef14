"""TensorBoard event files written in pure Python (tensorboard's own EventFileWriter and summary
protos): no TensorFlow, so the HParams row and a JAX run's epoch curves need none.

What TensorBoard reads back is what `tf.summary` writes: scalars as v2 tensor summaries of the
scalars plugin, the HParams plugin's session start and end summaries.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from pathlib import Path

_ids = itertools.count()  # two writers of one folder in the same second get two files


class EventWriter:
    """One events file in `log_dir`, each event written as it comes (a few per epoch). Not
    tensorboard's EventFileWriter: it opens its file through `tensorboard.compat.tf`, which
    imports TensorFlow whenever it is installed."""

    def __init__(self, log_dir: Path | str):
        from tensorboard.compat.proto import event_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        folder = Path(log_dir)
        folder.mkdir(parents=True, exist_ok=True)
        name = (
            f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_ids)}"
        )
        self._file = open(folder / name, "wb")  # noqa: SIM115 - closed by close()
        self._records = RecordWriter(self._file)
        self._add(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def _add(self, event) -> None:
        self._records.write(event.SerializeToString())

    def summary(self, summary, step: int) -> None:
        """Write a Summary proto at `step`."""
        from tensorboard.compat.proto import event_pb2

        self._add(event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def scalar(self, tag: str, value: float, step: int) -> None:
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb

        self.summary(scalar_pb(tag, float(value)), step)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()
