"""A judge aimed at the document: each sentence must pick out its own document among the documents of the batch."""

import keras
import tensorflow as tf

from keras_ae.distribute import gather_global_batch
from keras_ae.losses import info_nce


def document_classification_losses(query, context, documents):
    """Per-sentence loss `[batch]` and the number of other sentences of its document in the global batch `[batch]`.

    `query` (f(s)) and `context` (g(c)) are this replica's `[batch, dim]` encodings, `documents` the `[batch]`
    document id of each sentence (`contiguous_batches`' `documents`: a novel, a book of the Bible, one package
    description). The candidates are the documents present in the global batch (gathered across replicas), each
    represented by the mean `g` of its sentences there; a sentence's own document is represented by the mean over
    its *other* sentences (leave-one-out, so it cannot find itself). The score of a document is `f(s) . mean g`, and
    softmax cross-entropy picks the own document. A sentence that is the only one of its document in the batch has
    no positive: its loss is 0 (its document stays a candidate for the others).
    """
    global_context, offset = gather_global_batch(context)
    global_documents, _ = gather_global_batch(documents)
    global_context = tf.cast(global_context, tf.float32)
    query = tf.cast(query, tf.float32)
    groups, group_of = tf.unique(global_documents)
    num_groups = tf.shape(groups)[0]
    sums = tf.math.unsorted_segment_sum(global_context, group_of, num_groups)  # [groups, dim]
    counts = tf.math.unsorted_segment_sum(tf.ones_like(group_of, tf.float32), group_of, num_groups)
    scores = tf.matmul(query, sums / counts[:, None], transpose_b=True)  # [batch, groups]
    local = tf.shape(query)[0]
    own_rows = tf.range(local) + offset
    own_group = tf.gather(group_of, own_rows)
    mates = tf.gather(counts, own_group) - 1.0
    others_mean = (tf.gather(sums, own_group) - tf.gather(global_context, own_rows)) / tf.maximum(mates, 1.0)[:, None]
    scores = tf.tensor_scatter_nd_update(
        scores, tf.stack([tf.range(local), own_group], axis=1), tf.reduce_sum(query * others_mean, axis=-1)
    )
    has_positive = tf.cast(mates > 0, tf.float32)
    return has_positive * info_nce(scores, own_group), mates


@keras.saving.register_keras_serializable(package="keras_ae")
class DocumentClassifier(keras.layers.Layer):
    """Judges a code `(f(s), g(s))` of a batch of sentences from several documents by how well `f(s)` picks out its
    own document, represented by the mean `g` of the document's other sentences in the batch, among the batch's
    other documents (`document_classification_losses`). Sentences of the same document as positives and other
    documents as negatives follow DeCLUTR (Giorgi et al., 2021, "DeCLUTR: Deep contrastive learning for unsupervised
    textual representations"); a class as the mean of its members' embeddings is a prototype (Snell et al., 2017,
    "Prototypical networks for few-shot learning"). It has no weights; `QuickThought(document_weight)` adds it
    beside the neighbour judge. Batches need a `documents` key (`keras_ae.data.corpus.contiguous_batches`).

    Example:
        judge = DocumentClassifier(name="document")
        batch = {"documents": tf.constant([7, 7, 7, 9, 9, 4], tf.int64)}
        query, context = tf.random.normal([6, 8]), tf.random.normal([6, 8])
        losses = judge.judge_loss(batch, (query, context))   # [6]; row 5 (alone in document 4) gets 0
    """

    def build(self, code_shape=None):
        self.built = True

    def judge_loss(self, batch, code, training=False):
        """Per-sentence loss `[batch]` for a batch `{"sentences", "documents", ...}` and its code `(query, context)`."""
        if "documents" not in batch:
            raise ValueError(
                "The document judge needs each sentence's document id: batches with a 'documents' key, as "
                "keras_ae.data.corpus.contiguous_batches and keras_ae.data.text.make_contiguous_dataset make them."
            )
        query, context = code
        return document_classification_losses(query, context, tf.cast(batch["documents"], tf.int64))[0]
