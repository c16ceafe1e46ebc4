"""The image protocol: linear probe and kNN on frozen embeddings, beside raw-pixel and random-init baselines.

Example:
    rows = image_probe_table(model, splits)
    # {"raw pixels": {...}, "random-init encoder": {...}, "InfoMax": {"linear_probe": 0.97, "knn": 0.96}}
"""

import numpy as np

from keras_ae.evaluation.probes import embed, knn_accuracy, linear_probe_accuracy


def image_probe_table(model, splits, baselines=True, train_split="train", test_split="test"):
    """Probe accuracies of `model.encode` (and, with `baselines`, raw pixels and a random-init copy of the model).

    `splits` is `keras_ae.data.images.ImageSplits`; probes fit on `train_split` and score on `test_split`
    (use `test_split="validation"` while tuning, never the test split). The random-init copy draws its weights
    from the global random state (seeded once by the run), which this function never reseeds.
    """
    train, test = getattr(splits, train_split), getattr(splits, test_split)
    if train.labels is None or test.labels is None:
        raise ValueError(f"{splits.name} has no labels: the probe table needs labelled train and test images.")
    encoders = {}
    if baselines:
        encoders["raw pixels"] = lambda images: np.reshape(images, (len(images), -1))
        encoders["random-init encoder"] = type(model).from_config(model.get_config()).encode
    encoders[type(model).__name__] = model.encode
    rows = {}
    for name, encode in encoders.items():
        train_features, test_features = embed(encode, train.images), embed(encode, test.images)
        rows[name] = {
            "dim": int(train_features.shape[-1]),
            "linear_probe": linear_probe_accuracy(train_features, train.labels, test_features, test.labels),
            "knn": knn_accuracy(train_features, train.labels, test_features, test.labels),
        }
    return rows
