"""Reads a W&B offline run back, for the tests of logger=wandb only.

wandb 0.31 has no Python reader of offline runs any more (wandb.sdk.internal.datastore went with
the move to the Go wandb-core, and wandb.Api is online-only); `wandb sync` and `wandb leet` read
them in Go. The file format is unchanged, as that datastore documented it: run-<id>.wandb is a
LevelDB log (https://github.com/google/leveldb/blob/main/doc/log_format.md) after a 7-byte
":W&B" header, 32 KiB blocks of CRC32-checked chunks, each record one
wandb.proto.wandb_internal_pb2.Record. The records are parsed with wandb's own protobuf classes.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

HEADER = struct.Struct("<4sHB")  # ident, magic, version
CHUNK = struct.Struct("<IHB")  # crc32 of type + data, length, type
BLOCK = 32768
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path):
    """The wandb_internal_pb2.Record messages of a .wandb file, in order; a bad checksum raises."""
    from wandb.proto import wandb_internal_pb2

    data = Path(path).read_bytes()
    ident, magic, version = HEADER.unpack_from(data)
    assert (ident, magic, version) == (b":W&B", 0xBEE1, 0), f"{path} is not a W&B transaction log"
    pos, pending = HEADER.size, b""
    while pos + CHUNK.size <= len(data):
        if BLOCK - pos % BLOCK < CHUNK.size:  # a block's zero trailer
            pos += BLOCK - pos % BLOCK
            continue
        crc, length, kind = CHUNK.unpack_from(data, pos)
        chunk = data[pos + CHUNK.size : pos + CHUNK.size + length]
        pos += CHUNK.size + length
        assert crc == zlib.crc32(chunk, zlib.crc32(bytes([kind]))), f"{path}: bad checksum at {pos}"
        pending += chunk
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            yield record
            pending = b""


def _key(item) -> str:
    return item.key or "/".join(item.nested_key)


@dataclass
class OfflineRun:
    """What a W&B offline run holds: its identity, config, per-step history and final summary."""

    folder: Path
    run_id: str = ""
    project: str = ""
    group: str = ""
    name: str = ""
    tags: list = field(default_factory=list)
    config: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)  # {step: {key: value}}, W&B's "_" keys left out
    summary: dict = field(default_factory=dict)
    exit_code: int | None = None


def read_run(folder: Path) -> OfflineRun:
    """An offline-run-<time>-<id> folder, read from its run-<id>.wandb file."""
    (log,) = Path(folder).glob("run-*.wandb")
    run = OfflineRun(Path(folder))
    for record in records(log):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            r = record.run
            run.run_id, run.project, run.group, run.name = r.run_id, r.project, r.run_group, r.display_name
            run.tags = list(r.tags)
            run.config.update({_key(i): json.loads(i.value_json) for i in r.config.update})
        elif kind == "config":
            run.config.update({_key(i): json.loads(i.value_json) for i in record.config.update})
        elif kind == "history":
            items = {_key(i): json.loads(i.value_json) for i in record.history.item}
            run.history[record.history.step.num] = {k: v for k, v in items.items() if not k.startswith("_")}
        elif kind == "summary":
            run.summary.update({_key(i): json.loads(i.value_json) for i in record.summary.update})
        elif kind == "exit":
            run.exit_code = record.exit.exit_code
    run.config.pop("_wandb", None)
    return run


def offline_runs(folder: Path) -> list[OfflineRun]:
    """Every offline run under a folder (any depth: a sweep's run directories), by folder name."""
    return [read_run(p) for p in sorted(Path(folder).rglob("offline-run-*")) if p.is_dir()]
