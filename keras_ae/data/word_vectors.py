"""Word vectors fitted offline on the training text itself, as a sentence encoder's starting point: latent semantic
analysis (LSA) of the TF-IDF matrix of the training sentences' token ids.

The Skip-thought and Quick-thought papers start from pretrained word vectors (word2vec for Skip-thought's vocabulary
expansion, Kiros et al., 2015; GloVe in Logeswaran & Lee, 2018). Nothing can be downloaded here, so the vectors are
fitted on our own corpus, with the encoder's own tokens: TF-IDF (Salton & Buckley, 1988) of an even sample of
training sentences, then a truncated SVD to `dim` directions (Deerwester et al., 1990, "Indexing by Latent Semantic
Analysis"). LSA embeds a sentence with token counts `c` as `(c * idf) @ V` (then a per-sentence scale), a sum over its
tokens of `idf(t) * V[t]`; so with `idf(t) * V[t]` as the embedding of token `t`, the mean of a sentence's token
embeddings (`GRUSentenceEncoder(readout="words")`) *is* that LSA embedding, up to each sentence's scale.

Example:
    ids = [encoder.tokenize(tf.constant(sentences)).numpy()]           # [n, max_length] each, 0 = padding
    vectors = lsa_word_vectors(ids, encoder.vocabulary_size, dim=64)   # [vocabulary_size, 64]
    encoder.set_word_embeddings(vectors)
    windows = lsa_word_vectors(ids, encoder.vocabulary_size, dim=64, units=np.arange(len(sentences)) // 3)  # rows of 3

`split_idf` keeps part or all of the idf as fixed token weights (`GRUSentenceEncoder(word_weighting="idf")`) and
starts the trainable table at the rest, so the bag still starts as the same LSA.
"""

import numpy as np


def token_count_matrix(token_ids, vocabulary_size, units=None):
    """Sparse counts `[rows, vocabulary_size]` (CSR, float64) of `token_ids`, an iterable of integer arrays
    `[n, length]`: one row per sentence, or with `units` (one integer per sentence over all the arrays, in order) one
    row per unit, the sum of its sentences' counts (e.g. a window of consecutive sentences: LSA fitted on larger
    units sees words co-occur across sentences). Padding (0) is not counted, rows without tokens are dropped."""
    from scipy import sparse

    blocks = []
    for ids in token_ids:
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"token ids must come in [sentences, length] arrays; got shape {ids.shape}.")
        if ids.size and (ids.min() < 0 or ids.max() >= vocabulary_size):
            raise ValueError(f"token ids must be in [0, {vocabulary_size}); got {ids.min()}..{ids.max()}.")
        rows, flat = np.repeat(np.arange(ids.shape[0]), ids.shape[1]), ids.ravel()
        real = flat > 0  # not padding; repeated (row, token) pairs are summed into counts
        blocks.append(sparse.csr_matrix((np.ones(int(real.sum())), (rows[real], flat[real])),
                                        shape=(ids.shape[0], vocabulary_size)))
    matrix = sparse.vstack(blocks).tocsr() if blocks else sparse.csr_matrix((0, vocabulary_size))
    if units is not None:
        units = np.asarray(units)
        if units.shape != (matrix.shape[0],):
            raise ValueError(f"units must give one unit per sentence: {matrix.shape[0]} sentences, got units of "
                             f"shape {units.shape}.")
        _, owners = np.unique(units, return_inverse=True)
        owners = owners.ravel()
        members = sparse.csr_matrix((np.ones(len(owners)), (owners, np.arange(len(owners)))),
                                    shape=(int(owners.max(initial=-1)) + 1, matrix.shape[0]))
        matrix = (members @ matrix).tocsr()
    matrix = matrix[matrix.getnnz(axis=1) > 0]
    if matrix.shape[0] < 2:
        raise ValueError(f"LSA word vectors need the token ids of at least 2 non-empty sentences (or units); got "
                         f"{matrix.shape[0]}: give (a sample of) the training sentences' token ids.")
    return matrix


def lsa_fit(token_ids, vocabulary_size, dim, seed=0, units=None):
    """`(directions [vocabulary_size, dim], idf [vocabulary_size])`, float64: each token's `dim` LSA directions
    `V[t]` (TruncatedSVD of the l2-normalised TF-IDF matrix of `token_ids`, one row per sentence or per unit of
    `units` as in `token_count_matrix`, raw counts, smoothed idf as scikit-learn's) and its idf. Padding (0) and tokens
    absent from `token_ids` get zero directions and idf 0 (LSA has nothing to say about them). `lsa_word_vectors` is
    `idf * V`; an encoder with `word_weighting="idf"` takes the two apart (`set_token_idf(idf)`,
    `set_word_embeddings(V)`), so the idf stays fixed while `V` trains."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer

    counts = token_count_matrix(token_ids, vocabulary_size, units)
    seen = counts.getnnz(axis=0) > 0
    if not 0 < dim < seen.sum():
        raise ValueError(f"LSA word vectors of {dim} directions need more than {dim} distinct tokens in the sample; "
                         f"it has {int(seen.sum())}: give more sentences or a smaller word_dim.")
    tfidf = TfidfTransformer(norm="l2", sublinear_tf=False, smooth_idf=True).fit(counts)
    svd = TruncatedSVD(dim, random_state=seed).fit(tfidf.transform(counts))
    directions, idf = svd.components_.T.copy(), tfidf.idf_.copy()
    directions[~seen], idf[~seen] = 0.0, 0.0
    return directions, idf


def lsa_word_vectors(token_ids, vocabulary_size, dim, seed=0, units=None):
    """`[vocabulary_size, dim]` float32: row `t` is `idf(t) * V[t]`, the token's `dim` LSA directions scaled by its
    idf (`lsa_fit`), so that a sentence's summed token vectors are its LSA projection times its TF-IDF norm. Padding
    (row 0) and tokens absent from `token_ids` get zeros. The rows' scale is the SVD's: rescale before use
    (`GRUSentenceEncoder.set_word_embeddings` does)."""
    directions, idf = lsa_fit(token_ids, vocabulary_size, dim, seed=seed, units=units)
    return (idf[:, None] * directions).astype("float32")


def split_idf(directions, idf, exponent=1.0):
    """`(weights [vocabulary_size], table [vocabulary_size, dim])`: the LSA word vectors `idf * directions` of
    `lsa_fit` taken apart into fixed token weights `idf ** exponent`, scaled to mean 1 over the tokens the fit saw, and
    a table `idf ** (1 - exponent) * directions` for training, so that weight times row is `idf(t) * V[t]` up to one
    scale whatever the exponent: an encoder with `word_weighting="idf"` given both (`set_token_idf(weights)`, then
    `set_word_embeddings(table)`) starts as the same LSA bag. `exponent` 1 fixes the whole idf and trains the unit
    directions; below 1 the rest of the idf starts in the rows' lengths, which training may change (a trained bag
    learns its own frequency weighting in its rows' lengths, and a fixed full idf on top of them counts the rare
    tokens twice). Tokens the fit did not see keep weight and row 0.

    Example:
        directions = np.array([[0.0, 0.0], [0.6, 0.8], [1.0, 0.0], [0.0, 1.0]])  # lsa_fit's: 4 token ids, dim 2
        idf = np.array([0.0, 1.0, 4.0, 9.0])                                   # token 0 unseen (padding)
        weights, table = split_idf(directions, idf, exponent=0.5)   # weights [0, 0.5, 1, 1.5], table sqrt(idf) x V
        np.testing.assert_allclose(weights[:, None] * table, idf[:, None] * directions / 2.0)
        # then GRUSentenceEncoder(..., word_weighting="idf"): set_token_idf(weights), set_word_embeddings(table)
    """
    directions, idf = np.asarray(directions, "float64"), np.asarray(idf, "float64")
    if not exponent > 0:
        raise ValueError(f"the idf's exponent must be positive; got {exponent}.")
    if idf.ndim != 1 or directions.shape[:1] != idf.shape or idf.min(initial=0) < 0 or not (idf > 0).any():
        raise ValueError(f"split_idf takes lsa_fit's (directions [vocabulary_size, dim], idf [vocabulary_size]) with "
                         f"idf at least 0 and some token seen; got shapes {directions.shape} and {idf.shape}.")
    seen = idf > 0
    weights, rest = np.zeros_like(idf), np.zeros_like(idf)
    weights[seen], rest[seen] = idf[seen] ** exponent, idf[seen] ** (1.0 - exponent)
    return weights / weights[seen].mean(), rest[:, None] * directions
