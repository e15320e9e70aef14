"""Model builders: `build_*(spec, **params) -> keras.Model`, one family per module.

Each builder is named by `_target_` in conf/model/<preset>.yaml and marked with the input kinds
it can take (`@accepts`), so a mismatch is refused before any data is loaded. Modules:

  baseline   the common-sense baseline (no training)
  dense      Flatten -> Dense stacks
  recurrent  SimpleRNN / LSTM / GRU stacks, dropout, bidirectional
  conv       1D convolutions, optionally followed by a recurrent layer
  cnn        2D convolutions for images
  heads      what every builder shares: accepted input kinds, the input layer, the task head
  embedding  token ids -> vectors (learned, GloVe-initialised, or one-hot); glove reads the vectors
  layers     seqexp's own Keras layers; metrics: metrics Keras does not ship (perplexity)
"""
