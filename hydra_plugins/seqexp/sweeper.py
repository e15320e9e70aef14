"""seqexp's sweeper: Hydra's basic sweeper (the same cartesian product of `a=1,2 b=x,y`, the
same settings) whose sweep can be continued and grown in its folder (seqexp.sweep.runner).
Selected by conf/hydra/sweeper/seqexp.yaml, the default of conf/hydra/default.yaml."""

from __future__ import annotations

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper


class SeqexpSweeper(BasicSweeper):
    def sweep(self, arguments: list[str]):
        from seqexp.sweep.runner import sweep

        return sweep(self, arguments)
