import numpy as np
import pytest

from keras_ae.evaluation.codes import label_information


def test_label_information_is_zero_for_independent_and_one_for_determined_labels():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, size=20000)
    # Codes that name the label exactly (two codes per label): all of the label's entropy.
    assert label_information(labels * 2 + rng.integers(0, 2, labels.size), labels) == pytest.approx(1.0)
    # Codes drawn independently of the label: close to nothing (only the plug-in estimate's small bias).
    assert label_information(rng.integers(0, 8, labels.size), labels) < 0.01
    # Codes that keep half the label (its high bit): 1 bit of 2.
    assert label_information(labels // 2, labels) == pytest.approx(0.5, abs=0.01)
    with pytest.raises(ValueError, match="one label per frame code"):
        label_information([0, 1, 2], [0, 1])
