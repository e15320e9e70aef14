"""seqexp predict / export on a tiny Jena run: forecasts in degC computed by hand, every format
loaded back by its own runtime and compared with `seqexp predict`."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from seqexp.config import CONF_DIR
from seqexp.data.jena import read_jena
from seqexp.errors import SeqexpError
from seqexp.serve.export import export
from seqexp.serve.predict import predict

TOLERANCE = 1e-4  # degC: float32 arithmetic in another order (runtime kernels, fused ops)


def compose_cmd(name: str, *overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(name, overrides=list(overrides))


def by_hand(run, path):
    """The checkpoint's normalised forecast x std + mean, from windows cut here with numpy."""
    import keras

    prep = json.loads((run / "serving.json").read_text())
    columns, values = read_jena(path)
    mean, std = np.array(prep["mean"]), np.array(prep["std"])
    normalised = ((values - mean) / std).astype(np.float32)
    ends = np.arange(79 * 3, len(values))  # 80 timesteps, step 3
    windows = np.stack([normalised[e - 79 * 3 : e + 1 : 3][::-1] for e in ends])  # newest first
    model = keras.models.load_model(run / "checkpoints" / "best.keras", compile=False)
    t = columns.index("T (degC)")
    return ends, model.predict(windows, verbose=0)[:, 0] * std[t] + mean[t]


def test_serving_json_holds_every_columns_training_statistics(jena_run, jena_csv):
    prep = json.loads((jena_run / "serving.json").read_text())
    assert prep["serving"] == "seqexp.data.jena.JenaServing" and prep["version"] == 1
    columns, values = read_jena(jena_csv)
    assert prep["columns"] == columns and prep["features"] == columns and len(columns) == 14
    np.testing.assert_allclose(prep["mean"], values[:1000].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(prep["std"], values[:1000].std(axis=0), rtol=1e-6)
    assert (prep["lookback"], prep["step"], prep["delay"], prep["reverse"]) == (240, 3, 12, True)
    assert prep["horizon_rows"] == 12 + 3 and prep["input_shape"] == [80, 14]


def test_forecast_is_the_models_output_in_degc_at_the_target_time(jena_run, new_rows, tmp_path):
    out = tmp_path / "forecast.csv"
    rows = predict(
        compose_cmd("predict", f"run={jena_run}", f"input={new_rows}", "format=csv", f"output={out}")
    )
    ends, expected = by_hand(jena_run, new_rows)
    assert len(rows) == len(ends) == 63
    np.testing.assert_allclose([r["T (degC)"] for r in rows], expected, atol=TOLERANCE)
    stamps = [line.split(",")[0] for line in new_rows.read_text().splitlines()[1:]]
    last = dt.datetime.strptime(stamps[ends[0]], "%d.%m.%Y %H:%M:%S")
    assert rows[0]["last_row"] == stamps[ends[0]]
    assert rows[0]["forecast_for"] == (last + dt.timedelta(minutes=10 * 15)).strftime("%d.%m.%Y %H:%M:%S")
    lines = out.read_text().splitlines()
    assert lines[0] == "last_row,forecast_for,T (degC)" and len(lines) == 64
    assert float(lines[-1].split(",")[2]) == pytest.approx(expected[-1], abs=TOLERANCE)


def test_every_export_format_gives_the_predicted_forecast(jena_run, new_rows, tmp_path):
    import onnxruntime
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    predicted = [
        r["T (degC)"]
        for r in predict(
            compose_cmd(
                "predict",
                f"run={jena_run}",
                f"input={new_rows}",
                "format=json",
                f"output={tmp_path / 'p.json'}",
            )
        )
    ]
    _, values = read_jena(new_rows)
    windows = np.stack([values[e - 237 : e + 1 : 3] for e in range(237, 300)]).astype(np.float32)  # raw

    saved = export(compose_cmd("export", f"run={jena_run}", "format=saved_model"))
    loaded = tf.saved_model.load(str(saved / "saved_model"))
    np.testing.assert_allclose(loaded.serve(windows).numpy()[:, 0], predicted, atol=TOLERANCE)

    onnx = export(compose_cmd("export", f"run={jena_run}", "format=onnx", f"output={tmp_path / 'onnx'}"))
    session = onnxruntime.InferenceSession(str(onnx / "model.onnx"))
    (name,) = [i.name for i in session.get_inputs()]
    np.testing.assert_allclose(session.run(None, {name: windows})[0][:, 0], predicted, atol=TOLERANCE)

    lite = export(compose_cmd("export", f"run={jena_run}", "format=litert"))
    interpreter = Interpreter(model_path=str(lite / "model.tflite"))
    interpreter.allocate_tensors()
    (inp,), (outp,) = interpreter.get_input_details(), interpreter.get_output_details()
    forecasts = []
    for window in windows:
        interpreter.set_tensor(inp["index"], window[None])
        interpreter.invoke()
        forecasts.append(interpreter.get_tensor(outp["index"])[0, 0])
    np.testing.assert_allclose(forecasts, predicted, atol=TOLERANCE)

    info = json.loads((lite / "export.json").read_text())
    assert info["input"] == {**info["input"], "dtype": "float32", "shape": [1, 80, 14]}
    assert info["output"]["unit"] == "degC" and info["output"]["target"] == "T (degC)"
    assert json.loads((onnx / "export.json").read_text())["input"]["shape"] == [None, 80, 14]


def test_wrong_inputs_are_named(jena_run, new_rows, tmp_path):
    short = tmp_path / "short.csv"
    short.write_text("\n".join(new_rows.read_text().splitlines()[:101]) + "\n")
    with pytest.raises(SeqexpError, match=r"short.csv holds 100 rows; .* needs at least 238"):
        predict(compose_cmd("predict", f"run={jena_run}", f"input={short}"))
    text = tmp_path / "review.csv"
    text.write_text("a great movie\n")
    with pytest.raises(SeqexpError, match=r"review.csv is not a Jena climate CSV"):
        predict(compose_cmd("predict", f"run={jena_run}", f"input={text}"))
    with pytest.raises(SeqexpError, match=r"format='xml' is not allowed"):
        export(compose_cmd("export", f"run={jena_run}", "format=xml"))
    older = r"has no serving.json \(nor the preprocessing.json of older runs\)"
    with pytest.raises(SeqexpError, match=older):
        predict(compose_cmd("predict", f"run={tmp_path}", f"input={new_rows}"))


@pytest.mark.slow
def test_cli_predicts_and_refuses_a_wrong_input_with_exit_code_2(jena_run, new_rows, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    seqexp = Path(sys.executable).parent / "seqexp"
    ok = subprocess.run(
        [str(seqexp), "predict", f"run={jena_run}", f"input={new_rows}"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ok.returncode == 0, ok.stderr
    assert "T (degC)" in ok.stdout and ok.stdout.count("\n") == 64  # into a pipe: csv, a line a window
    image = tmp_path / "photo.png"
    image.write_bytes(b"\x89PNG\r\n")
    bad = subprocess.run(
        [str(seqexp), "predict", f"run={jena_run}", f"input={image}"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert f"seqexp: error: {image} is not a text CSV: line 1 is not UTF-8" in bad.stderr
