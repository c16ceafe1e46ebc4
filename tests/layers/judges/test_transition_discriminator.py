"""TransitionDiscriminator: one score per prefix, averaged up to the end; steps after the end change nothing; it learns
real summaries; a TextLatent stage can switch to it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers.judges.transition_discriminator import TransitionDiscriminator
from keras_ae.models.text_latent import TextLatent, make_critic
from tests.summary_helpers import VOCABULARY

V = 20
IDS = np.array([[3, 4, 5, 0, 0, 0], [6, 7, 8, 9, 10, 11], [0, 0, 0, 0, 0, 0]])  # ends at 3, never, at once


def _critic():
    keras.utils.set_random_seed(0)
    critic = TransitionDiscriminator(V, word_dim=8, hidden_dim=8, seed=0)
    critic.build()
    return critic


def test_every_step_up_to_the_end_is_scored_and_the_score_is_their_mean():
    critic = _critic()
    scores, steps = critic.step_scores(tf.one_hot(IDS, V))
    assert scores.shape == steps.shape == (3, 6)
    np.testing.assert_array_equal(steps, [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]])
    means = [scores[row, : int(np.sum(steps[row]))].numpy().mean() for row in range(3)]
    np.testing.assert_allclose(critic(tf.one_hot(IDS, V)), means, rtol=1e-5)
    assert len(set(np.round(scores[1].numpy(), 5))) == 6  # each prefix its own score


def test_a_padded_step_or_a_word_after_the_end_changes_nothing_and_a_word_before_it_does():
    critic = _critic()
    scores = critic(tf.one_hot(IDS, V)).numpy()
    padded = critic(tf.one_hot(np.pad(IDS, [[0, 0], [0, 4]]), V)).numpy()
    np.testing.assert_allclose(padded[[0, 2]], scores[[0, 2]], atol=1e-6)  # ended before: padding is never read
    assert abs(padded[1] - scores[1]) > 1e-4  # the second had no end symbol: ending after its last word is a step
    after, before = IDS.copy(), IDS.copy()
    after[0, 4], after[2, 3] = 12, 13  # words written after the end symbol
    before[0, 1] = 12
    np.testing.assert_allclose(critic(tf.one_hot(after, V)), scores, atol=1e-6)
    assert abs(float(critic(tf.one_hot(before, V))[0]) - scores[0]) > 1e-4
    words = tf.one_hot(IDS, V)  # the generator's gradient reaches every word up to the end, none after it
    with tf.GradientTape() as tape:
        tape.watch(words)
        total = tf.reduce_sum(critic(words))
    norms = tf.norm(tape.gradient(total, words), axis=-1).numpy()
    assert np.all(norms[0, :4] > 0) and np.all(norms[0, 4:] == 0) and np.all(norms[2, 1:] == 0)


def test_the_transition_critic_learns_real_summaries_from_repetitions():
    keras.utils.set_random_seed(0)
    critic = TransitionDiscriminator(V, word_dim=8, hidden_dim=8, penalty_weight=0.0, seed=0)  # cheap to trace
    critic.build()
    optimizer = keras.optimizers.Adam(1e-2)
    rng = np.random.default_rng(0)
    real = np.stack([rng.choice(np.arange(2, V), 5, replace=False) for _ in range(8)])  # distinct words
    fake = tf.one_hot(np.repeat(rng.integers(2, V, size=(8, 1)), 5, axis=1), V)  # "the the the the the"
    optimizer.build(critic.trainable_variables)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            losses, metrics = critic.adversary_loss({"summary_ids": real}, fake, training=True)
            loss = tf.reduce_mean(losses)
        optimizer.apply(tape.gradient(loss, critic.trainable_variables), critic.trainable_variables)
        return metrics

    for _ in range(60):
        metrics = step()
    assert float(metrics[critic.metric_names[0]]) >= 0.8  # accuracy (at the start: 0.5)
    assert float(metrics[critic.metric_names[1]]) > 0.5  # D(real) - D(fake) (at the start: about 0)
    assert float(tf.reduce_mean(critic(tf.one_hot(real, V)))) > float(tf.reduce_mean(critic(fake)))


def test_a_stage_can_switch_to_the_transition_critic_and_keeps_every_other_weight():
    model = TextLatent(VOCABULARY, objective="paired", summary_length=4, document_length=10, embedding_dim=16,
                       word_dim=16, hidden_dim=16, seed=0)
    stage = model.with_objective("unpaired", critic="transition")
    assert isinstance(stage.discriminator, TransitionDiscriminator) and stage.discriminator.seed == 0
    for part in ("encoder", "generator", "reader", "document_decoder"):
        for kept, start in zip(getattr(stage, part).get_weights(), getattr(model, part).get_weights()):
            np.testing.assert_array_equal(kept, start)
    rebuilt = TextLatent.from_config(stage.get_config())
    assert rebuilt.critic == "transition" and isinstance(rebuilt.discriminator, TransitionDiscriminator)
    assert type(model.with_objective("unpaired").discriminator).__name__ == "RealTextDiscriminator"
    with pytest.raises(ValueError, match="critic"):
        TextLatent(VOCABULARY, critic="lstm")
    with pytest.raises(ValueError, match="critic"):
        make_critic("lstm", V)
