"""Token ids -> vectors, as `model.embedding` says: a learned Embedding (optionally started from
GloVe and frozen) or HG's one-hot vectors (`one_hot: true`, vocab_size wide, nothing learned)."""

from __future__ import annotations

import logging

from seqexp.config.checks import checked
from seqexp.config.types import PositiveInt
from seqexp.data.spec import DataSpec, Report
from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)


def one_hot_or_pretrained(values: dict):
    if values["one_hot"] and values["pretrained"]:
        yield (
            "one_hot",
            True,
            f"excludes model.embedding.pretrained={values['pretrained']}: one-hot "
            "vectors have nothing to initialise; set one of them off",
        )


@checked("model.embedding", one_hot_or_pretrained)
def token_vectors(
    x,
    spec: DataSpec,
    /,
    *,
    dim: PositiveInt | None,  # the embedding size (null: GloVe's)
    trainable: bool,  # false: frozen (e.g. GloVe vectors kept as they are)
    pretrained: str | None,  # GloVe: a text file, or glove.6B.100d (downloaded once)
    one_hot: bool,  # one-hot vectors of the vocabulary instead of an Embedding (HG 9-2)
    cache_dir: str | None,  # where glove.6B.zip is downloaded to
):
    import keras

    if one_hot:
        return keras.layers.CategoryEncoding(spec.vocab_size, output_mode="one_hot", name="one_hot")(x)
    if not pretrained:
        if not dim:
            raise SeqexpError("Token input needs model.embedding.dim (the embedding size), e.g. 32.")
        return keras.layers.Embedding(spec.vocab_size, dim, trainable=trainable, name="embedding")(x)

    if not spec.vocabulary:
        raise SeqexpError(
            f"model.embedding.pretrained={pretrained} needs the words behind the token ids, "
            f"and this data has no vocabulary (data=imdb without a word index?). "
            f"Use data=imdb-raw, give "
            f"data.word_index, or set model.embedding.pretrained=null."
        )
    from seqexp.models.glove import glove_matrix

    matrix, facts = glove_matrix(pretrained, spec.vocabulary, dim, cache_dir)
    facts["trainable"] = trainable
    log.info(
        "GloVe %s covers %d of the %d vocabulary words (%.1f%%); %d rows stay zero; embedding %s",
        facts["source"],
        facts["covered_words"],
        facts["vocabulary_words"],
        100 * facts["coverage"],
        len(spec.vocabulary) - facts["covered_words"],
        "trainable" if trainable else "frozen",
    )
    layer = keras.layers.Embedding(spec.vocab_size, matrix.shape[1], trainable=trainable, name="embedding")
    x = layer(x)
    layer.set_weights([matrix])  # after the call built it: the matrix stays out of the config

    # -> metrics.json["extras"]["glove_coverage"]
    spec.reports.append(Report("seqexp.models.glove.glove_coverage", {"facts": facts}))
    return x
