"""Using a trained run: `seqexp predict` on new inputs, `seqexp export` to serving formats. Modules:

model          the run's model with its preprocessing in front: what predict runs and export writes
preprocessing  preprocessing.json: what the model needs to read new inputs as training read its data
readers        new input files, read the way the run's training data was read
predict        `seqexp predict`: the model on new inputs, as a table, csv or json
export         `seqexp export`: saved_model, onnx or litert, plus export.json (needs TensorFlow)
"""
