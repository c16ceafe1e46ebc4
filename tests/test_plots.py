"""Figures a person can read: the map's legend names the classes and says what the colours mean."""

import numpy as np

from keras_ae import plots


def test_embedding_map_names_classes_axes_and_colours(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(plots, "_save", lambda figure, path: shown.append(figure))
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 20)
    embeddings = rng.normal(size=(60, 5)) + labels[:, None] * 3.0
    names = ["Emma", "Persuasion", "Sense and Sensibility"]
    plots.embedding_map(embeddings, labels, tmp_path / "map.png", label_names=names, colour_by="book",
                        note="book probe 0.50")
    (figure,) = shown
    axis = figure.axes[0]
    legend = axis.get_legend()
    assert legend.get_title().get_text() == "colour: book (points)"
    assert [text.get_text() for text in legend.get_texts()] == ["Emma (20)", "Persuasion (20)",
                                                                 "Sense and Sensibility (20)"]
    assert axis.get_xlabel().startswith("t-SNE 1") and axis.get_ylabel() == "t-SNE 2"
    assert [text.get_text() for text in figure.texts] == ["book probe 0.50"]


def test_history_curves_label_both_axes(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(plots, "_save", lambda figure, path: shown.append(figure))
    plots.history_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, tmp_path / "history.png")
    (axis,) = shown[0].axes
    assert (axis.get_xlabel(), axis.get_ylabel()) == ("epoch", "loss")
