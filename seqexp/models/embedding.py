"""Token ids -> vectors, as `model.embedding` says: a learned Embedding (optionally started from
GloVe and frozen) or HG's one-hot vectors (`one_hot: true`, vocab_size wide, nothing learned)."""

from __future__ import annotations

import logging

from seqexp.data.spec import DataSpec, Report
from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)

KEYS = ("dim", "trainable", "pretrained", "one_hot", "cache_dir")


def token_vectors(x, spec: DataSpec, embedding):
    import keras

    embedding = dict(embedding or {})
    unknown = sorted(set(embedding) - set(KEYS))
    if unknown:
        raise SeqexpError(f"model.embedding has unknown key(s) {unknown}; known: {list(KEYS)}.")
    dim, pretrained = embedding.get("dim"), embedding.get("pretrained")
    trainable = bool(embedding.get("trainable", True))
    if embedding.get("one_hot"):
        if pretrained:
            raise SeqexpError(
                f"model.embedding.one_hot=true and model.embedding.pretrained={pretrained} exclude "
                f"each other: one-hot vectors have nothing to initialise. Set one of them off."
            )
        return keras.layers.CategoryEncoding(
            spec.vocab_size, output_mode="one_hot", name="one_hot"
        )(x)
    if not pretrained:
        if not dim:
            raise SeqexpError(
                "Token input needs model.embedding.dim (the embedding size), e.g. 32."
            )
        return keras.layers.Embedding(spec.vocab_size, dim, trainable=trainable, name="embedding")(
            x
        )

    if not spec.vocabulary:
        raise SeqexpError(
            f"model.embedding.pretrained={pretrained} needs the words behind the token ids, "
            f"and this data has no vocabulary (data=imdb without a word index?). "
            f"Use data=imdb-raw, give "
            f"data.word_index, or set model.embedding.pretrained=null."
        )
    from seqexp.models.glove import glove_matrix

    matrix, facts = glove_matrix(pretrained, spec.vocabulary, dim, embedding.get("cache_dir"))
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
    layer = keras.layers.Embedding(
        spec.vocab_size, matrix.shape[1], trainable=trainable, name="embedding"
    )
    x = layer(x)
    layer.set_weights([matrix])  # after the call built it: the matrix stays out of the config

    # -> metrics.json["extras"]["glove_coverage"]
    spec.reports.append(Report("seqexp.models.glove.glove_coverage", {"facts": facts}))
    return x
