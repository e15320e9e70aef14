"""The common-sense baseline: tomorrow's target equals its latest observed value (no training)."""

from __future__ import annotations

from seqexp.config.checks import checked
from seqexp.data.spec import DataSpec
from seqexp.errors import SeqexpError
from seqexp.models.heads import accepts, model_input


@accepts("timeseries")
@checked("model")
def build_naive(spec: DataSpec, /):
    import keras

    from seqexp.models.layers import LatestValue

    if spec.target_index is None:
        raise SeqexpError(
            f"model=naive predicts the latest observed {spec.target_name!r}, so data.features "
            f"must include the target column."
        )
    inputs = model_input(spec)
    outputs = LatestValue(spec.target_index, newest_first=spec.time_reversed)(inputs)
    return keras.Model(inputs, outputs, name="naive")
