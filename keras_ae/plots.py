"""Figures for run folders (PNG, matplotlib's Agg backend: no screen needed).

Example:
    embedding_map(test_embeddings, test_labels, run.file("embedding_map.png"))
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def image_grid(rows, path, row_titles=None, columns=10):
    """Saves a grid of images: one row per array in `rows` (each `[n, height, width, channels]` in [0, 1])."""
    figure, axes = plt.subplots(len(rows), columns, figsize=(columns, len(rows) + 0.3), squeeze=False)
    for row, images in enumerate(rows):
        for column in range(columns):
            axis = axes[row][column]
            axis.axis("off")
            if column < len(images):
                image = np.asarray(images[column])
                axis.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1)
        if row_titles:
            axes[row][0].set_title(row_titles[row], fontsize=8, loc="left")
    _save(figure, path)


def embedding_map(embeddings, labels, path, max_points=2000, title="Test embeddings (t-SNE)", seed=0,
                  label_names=None, colour_by="label", note=None):
    """Saves a 2-D t-SNE map of `embeddings`, one colour per label, with a legend naming each class.

    Args:
        label_names: the name of each label (e.g. book titles, "digit 3", garment names); default: the label.
        colour_by: what the colours mean, the legend's title (e.g. "book", "digit").
        note: a line under the map, e.g. the probe accuracy that says how separable the classes are.
    """
    from sklearn.manifold import TSNE

    embeddings = np.asarray(embeddings).reshape(len(embeddings), -1)
    labels = np.asarray(labels)
    chosen = np.random.default_rng(seed).permutation(len(embeddings))[:max_points]
    points = TSNE(n_components=2, init="pca", random_state=seed, perplexity=min(30, len(chosen) - 1)).fit_transform(
        embeddings[chosen]
    )
    figure, axis = plt.subplots(figsize=(7.5, 6))
    colours = plt.get_cmap("tab10" if len(np.unique(labels)) <= 10 else "tab20")
    for index, label in enumerate(np.unique(labels[chosen])):
        mask = labels[chosen] == label
        name = label_names[label] if label_names is not None else str(label)
        axis.scatter(points[mask, 0], points[mask, 1], s=4, color=colours(index % colours.N),
                     label=f"{name} ({int(mask.sum())})")
    axis.legend(title=f"colour: {colour_by} (points)", loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7,
                title_fontsize=8, markerscale=2.5, frameon=False)
    axis.set_title(title, fontsize=10)
    axis.set_xlabel("t-SNE 1 (no units: t-SNE keeps neighbours, not distances)", fontsize=8)
    axis.set_ylabel("t-SNE 2", fontsize=8)
    axis.set_xticks([])
    axis.set_yticks([])
    if note:
        figure.text(0.01, 0.01, note, fontsize=7, ha="left", va="bottom", wrap=True)
        figure.subplots_adjust(bottom=0.12)
    _save(figure, path)


def history_curves(history, path, title="Training"):
    """Saves one panel per metric of a Keras `History.history` dict (validation curves beside training ones)."""
    names = [name for name in history if not name.startswith("val_")]
    figure, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3), squeeze=False)
    for axis, name in zip(axes[0], names):
        axis.plot(history[name], label="train")
        if f"val_{name}" in history:
            axis.plot(history[f"val_{name}"], label="validation")
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("epoch")
        axis.set_ylabel(name.replace("_", " "), fontsize=8)
        axis.legend(fontsize=7)
    figure.suptitle(title)
    _save(figure, path)


def bar_chart(values, path, title, xlabel="", ylabel=""):
    """Saves a bar chart of a 1-D array (e.g. code usage counts)."""
    figure, axis = plt.subplots(figsize=(8, 3))
    axis.bar(np.arange(len(values)), values, width=1.0)
    axis.set_title(title)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    _save(figure, path)


def line_plot(x, series, path, title, xlabel="", ylabel="", log_x=False):
    """Saves one line per entry of `series` (a dict from label to y values) against `x`."""
    figure, axis = plt.subplots(figsize=(5, 3.5))
    for label, y in series.items():
        axis.plot(x, y, marker="o", label=label)
    if log_x:
        axis.set_xscale("log", base=2)
    axis.set_title(title)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.legend(fontsize=8)
    _save(figure, path)


def tree_grid(rows, path, titles=None):
    """Saves rows of trees side by side: each row a list of bracket strings or `nltk.Tree`s (e.g. gold beside
    predicted), drawn with leaves at the bottom and each constituent above the middle of its children."""
    import nltk

    columns = max(len(row) for row in rows)
    figure, axes = plt.subplots(len(rows), columns, figsize=(5 * columns, 2.6 * len(rows)), squeeze=False)
    for r, row in enumerate(rows):
        for c in range(columns):
            axis = axes[r][c]
            axis.axis("off")
            if c < len(row):
                tree = row[c]
                _draw_tree(nltk.Tree.fromstring(tree) if isinstance(tree, str) else tree, axis)
                if titles:
                    axis.set_title(titles[r][c], fontsize=8, loc="left")
    _save(figure, path)


def _draw_tree(tree, axis):
    """Draws an `nltk.Tree` on `axis`; returns nothing."""
    import nltk

    leaves = [0]

    def place(node):
        if not isinstance(node, nltk.Tree):
            x = leaves[0]
            leaves[0] += 1
            axis.text(x, 0, str(node), ha="center", va="top", fontsize=7)
            return x, 0
        children = [place(child) for child in node]
        x, y = float(np.mean([cx for cx, _ in children])), max(cy for _, cy in children) + 1
        for cx, cy in children:
            axis.plot([x, cx], [y - 0.15, cy + 0.15], color="gray", linewidth=0.6)
        axis.text(x, y, node.label(), ha="center", va="center", fontsize=6, color="navy")
        return x, y

    _, height = place(tree)
    axis.set_xlim(-0.8, leaves[0] - 0.2)
    axis.set_ylim(-0.8, height + 0.5)


def speech_code_map(features, reconstruction, codes, phones, phone_names, path):
    """One held-out utterance: its spectrogram, the reconstruction from codes, and the code and phone per frame."""
    frames = min(len(features), len(phones), 300)
    figure, axes = plt.subplots(3, 1, figsize=(10, 6), sharex=True)
    axes[0].imshow(features[:frames].T, aspect="auto", origin="lower")
    axes[0].set_title("input: 40-band log-mel spectrum in its DCT basis (standardised)", fontsize=9)
    axes[1].imshow(reconstruction[:frames].T, aspect="auto", origin="lower")
    axes[1].set_title("reconstruction from the codes", fontsize=9)
    axes[2].step(np.arange(frames), codes[:frames], where="post", linewidth=0.8)
    axes[2].set_ylabel("code")
    changes = [0] + [i for i in range(1, frames) if phones[i] != phones[i - 1]]
    for start in changes:
        axes[2].axvline(start, color="grey", linewidth=0.3)
        if phone_names:
            axes[2].text(start, axes[2].get_ylim()[1], phone_names[phones[start]], fontsize=6, va="bottom")
    axes[2].set_xlabel("frame (10 ms)")
    _save(figure, path)


def _save(figure, path):
    figure.tight_layout(rect=(0, 0.04 if figure.texts else 0, 1, 1))
    figure.savefig(path, dpi=100)
    plt.close(figure)
