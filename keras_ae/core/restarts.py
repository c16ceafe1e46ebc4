"""Random restarts chosen by validation loss: unsupervised model selection for objectives with local optima.

Grammar induction is the standard case (Kim, Dyer & Rush, 2019, "Compound Probabilistic Context-Free Grammars for
Grammar Induction", and Klein & Manning before them): the likelihood has several consistent optima, e.g.
`((subject verb) object)` beside `(subject (verb object))`, and the initialisation decides which one training
reaches. Several short warm-ups from different seeds, scored by the held-out loss (no gold labels), pick the
start that is worth continuing. `build_model(seed)` owns all of a start's randomness (it may seed the global
generator, as a recipe does); this module never reseeds anything itself.

Example:
    def build(seed):
        keras.utils.set_random_seed(seed)        # the initial weights of this start
        model = TreeLatent(vocabulary, seed=seed)
        model.compile(optimizer=keras.optimizers.Adam(2e-3))
        return model

    model, losses = best_of_restarts(build, train_batches, validation_batches, restarts=4, warmup_steps=60, seed=0)
    model.fit(train_batches, epochs=4)     # continue the chosen start (its optimizer state too)
"""

import math


def restart_seed(seed, index):
    """The seed of restart `index` (restart 0 keeps `seed`, so one restart is the plain run)."""
    return seed + 1000 * index


def best_of_restarts(build_model, train_data, validation_data, restarts, warmup_steps, seed=0):
    """Trains `restarts` models, each from `build_model(restart_seed(seed, i))`, for `warmup_steps` steps of `train_data`, and keeps the one with the lowest
    `model.evaluate(validation_data)` loss (ties: the earlier restart).

    `build_model(seed)` returns a compiled model. Returns `(model, validation_losses)`, one loss per restart. With
    `restarts=1` nothing is trained: the model comes back as built, with an empty list of losses.
    """
    if isinstance(restarts, bool) or not isinstance(restarts, int) or restarts < 1:
        raise ValueError(f"restarts must be a positive integer; got {restarts!r}.")
    if restarts > 1 and (isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 1):
        raise ValueError(f"warmup_steps must be a positive integer with several restarts; got {warmup_steps!r}.")
    if restarts == 1:
        return build_model(seed), []
    best, best_loss, losses = None, math.inf, []
    for index in range(restarts):
        model = build_model(restart_seed(seed, index))
        model.fit(train_data, steps_per_epoch=warmup_steps, epochs=1, verbose=0)
        loss = float(model.evaluate(validation_data, verbose=0, return_dict=True)["loss"])
        losses.append(loss)
        if loss < best_loss:
            best, best_loss = model, loss
    return best, losses
