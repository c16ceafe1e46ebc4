"""Frozen-embedding probes: a linear probe and a k-nearest-neighbour classifier.

Protocol (fixed, never tuned on test): standardise with training statistics, fit a multinomial logistic
regression on the training embeddings, report accuracy on the test embeddings; kNN uses k=10 and cosine distance.

Example:
    train_z = embed(model.encode, x_train)
    test_z = embed(model.encode, x_test)
    accuracy = linear_probe_accuracy(train_z, y_train, test_z, y_test)
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def embed(encode, inputs, batch_size=512):
    """Runs `encode` over `inputs` (an array, or a list of strings) in batches; returns a float32 numpy array."""
    outputs = [np.asarray(encode(inputs[start : start + batch_size])) for start in range(0, len(inputs), batch_size)]
    if not outputs:
        raise ValueError("Cannot embed an empty input set.")
    return np.concatenate(outputs).astype("float32")


def linear_probe_accuracy(train_features, train_labels, test_features, test_labels, max_iter=1000, seed=0):
    """Test accuracy of a multinomial logistic regression fitted on standardised training features."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, random_state=seed))
    probe.fit(_flat(train_features), np.asarray(train_labels))
    return float(probe.score(_flat(test_features), np.asarray(test_labels)))


def knn_accuracy(train_features, train_labels, test_features, test_labels, k=10):
    """Test accuracy of a k-nearest-neighbour vote (cosine distance) over the training features."""
    knn = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute", n_jobs=-1)
    knn.fit(_flat(train_features), np.asarray(train_labels))
    return float(knn.score(_flat(test_features), np.asarray(test_labels)))


def chance_accuracy(labels):
    """Accuracy of always answering the most frequent label."""
    _, counts = np.unique(np.asarray(labels), return_counts=True)
    return float(counts.max() / counts.sum())


def _flat(features):
    features = np.asarray(features)
    return features.reshape(len(features), -1)
