"""Training speed of the sentence models against PyTorch eager twins of the same sizes, timed in one run.

    pip install -e '.[bench]'       # torch 2.13.0 (CPU build), for this benchmark only
    python benchmarks/sentence_twin.py                          # both models, 60 s of timed training per side
    python benchmarks/sentence_twin.py --models quick --seconds 30 --tokens word
    python benchmarks/sentence_twin.py --before       # also the Keras step as it was before its speed-up
    python benchmarks/sentence_twin.py --unbucketed   # also the Keras step without length buckets
    python benchmarks/sentence_twin.py --models skip --padded-logits   # also Skip-thought's logits at every position
    python benchmarks/sentence_twin.py --models quick --also=--packed   # also a Keras side with extra recipe flags

The Keras side is what `python -m keras_ae.recipes.quick_thought` (and `skip_thought`) trains with its defaults:
the recipe's model, its optimizer (Adam, clipping 5) and its training pipeline (`text_recipe.training_dataset`:
raw sentences from the corpus, tokenised by the model's own tokenizer inside `tf.data`), stepped by the model's
own compiled train function, on `--corpus` (default austen: it loads in seconds; the batches are the same shape on
`all`). The twin is the same network written in PyTorch eager (2.13, CPU) with the same sizes, loss and optimizer:

- Quick-thought: two encoders (their own word embeddings, vocabulary + 2 rows, `word_dim`; a GRU of
  `embedding_dim / 2` units; mean of the states at the words), scores `f(s) . g(c)` among the batch, softmax
  cross-entropy on the true previous and next sentence (when it is in the batch), batch 400 of stretches of 20.
- Skip-thought: the encoder above with `embedding_dim` units; two decoders (a tanh projection of the thought
  vector as the initial state, a GRU reading the previous word through the encoder's embedding table beside the
  thought vector, a `word_dim` projection, the vocabulary's logits), teacher forcing with 80% word dropout, the mean
  token cross-entropy up to the end symbol, batch 128, the neighbours' first 12 tokens.

With Quick-thought's packed sequences (`--packed`, the default: each encoder's GRU runs once over the batch's real
tokens, `keras_ae.layers.unrolled_gru.packed_gru`), a second twin row, "PyTorch, packed sequences", runs its GRUs on
`pack_padded_sequence`; with length buckets instead (`--no-packed --bucket-width 8`: groups of the batch's sentences
cut to the next multiple of 8 tokens, `keras_ae.layers.length_buckets`), the row "PyTorch, by length" does the same
grouping; so the table tells the trick's part from the framework's. The plain twin runs every sentence over all
`max_length` positions, as the issue's twin does. Likewise with `--padded-logits`
(Skip-thought): the Keras judge runs its decoders' vocabulary layer and softmax at the scored target positions only
(the words and the end symbol, `keras_ae.losses.scored_token_crossentropy`); "Keras, logits at every position" is
the step as it was, and "PyTorch, scored positions only" a twin that gathers the same positions.

The twin's tokens are prepared once, before timing (the issue's twin: "its tokens prepared once in the data
pipeline"); its batches are index lookups into that table. Both sides run on the same cores; timed chunks of
`--chunk` seconds alternate between them so that load from other processes hits both alike. The table gives the
training sentences per second of each (a sentence is one sentence of a Quick-thought batch, one triple of a
Skip-thought batch), the ratio to the plain twin's, each side's CPU time per step (the process's, every thread's)
and its sentences per CPU-second: on a shared machine the ratio of rates moves with the load (0.73-1.51 for one and
the same code), the CPU time far less, so it tells how much work each step is.
"""

import argparse
import os
import time

import numpy as np

# OpenMP's default lets idle threads spin; on a shared machine that made each PyTorch step 30-50x slower (3-5 s
# instead of 0.07-0.1 s for the Quick-thought twin). Passive waiting is the twin's best setting; it must be set
# before torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
try:
    import torch
except ImportError:  # a benchmark-only dependency: say how to get it before any work starts
    torch = None

TORCH_HINT = "PyTorch is missing: pip install -e '.[bench]' (torch==2.13.0, the CPU build; other versions pull CUDA)."


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="quick,skip", help="comma-separated: quick, skip")
    parser.add_argument("--corpus", default="austen", help="austen|books|all|PATH (the recipes' --corpus)")
    parser.add_argument("--tokens", choices=["wordpiece", "word"], default=None,
                        help="the recipes' --tokens (default: theirs)")
    parser.add_argument("--vocabulary-sentences", type=int, default=30000,
                        help="training sentences the WordPiece learner reads (the vocabulary size is the recipe's)")
    parser.add_argument("--seconds", type=float, default=60.0, help="timed training seconds per side and model")
    parser.add_argument("--chunk", type=float, default=5.0, help="seconds of one timed chunk before switching sides")
    parser.add_argument("--recipe-flags", default="", help="extra flags for both recipes' parsers, e.g. '--max-length 40'")
    parser.add_argument("--torch-threads", type=int, default=None, help="PyTorch's intra-op threads (default: its own)")
    parser.add_argument("--before", action="store_true",
                        help="also time the Keras step as it was before the speed-up (raw strings tokenised inside the "
                        "step, Keras' masked GRU loop) in the same interleaved run")
    parser.add_argument("--unbucketed", action="store_true",
                        help="also time the Keras step with --bucket-width 0 (every sentence over all max_length "
                        "positions) in the same interleaved run")
    parser.add_argument("--padded-logits", action="store_true",
                        help="also time the Keras Skip-thought step with its decoders' vocabulary layer and softmax at "
                        "every target position, padding included (the step before session 16), in the same run")
    parser.add_argument("--also", default="",
                        help="also time a Keras side built with these extra recipe flags, e.g. --also=--packed, in the same "
                        "interleaved run")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------------------------- the PyTorch twins
def masked_mean(states, ids):
    """Mean of `states [batch, length, dim]` over the positions of real tokens (`ids != 0`); zeros when none."""
    weights = (ids != 0).to(states.dtype).unsqueeze(-1)
    return (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def twin_modules(bucket_width=0, packed=False):
    """The twins' module classes (defined here so that importing this file does not need torch); with
    `bucket_width`, their encoders group each batch by length as `keras_ae.layers.length_buckets.by_length` does;
    with `packed`, their GRUs run on PyTorch's packed sequences, as the Keras encoders' `packed` does."""
    nn = torch.nn

    class Encoder(nn.Module):
        def __init__(self, vocabulary_size, word_dim, units, embedding=None):
            super().__init__()
            self.embedding = embedding or nn.Embedding(vocabulary_size, word_dim)  # row 0 trainable, as Keras'
            self.gru = nn.GRU(word_dim, units, batch_first=True)

        def pooled(self, ids):
            states, _ = self.gru(self.embedding(ids))
            return masked_mean(states, ids)

        def forward(self, ids):
            if packed:
                lengths = (ids != 0).sum(1)
                sequences = nn.utils.rnn.pack_padded_sequence(self.embedding(ids), lengths.clamp(min=1), batch_first=True,
                                                              enforce_sorted=False)
                states, _ = nn.utils.rnn.pad_packed_sequence(self.gru(sequences)[0], batch_first=True)
                return masked_mean(states, ids[:, : states.shape[1]])
            if not bucket_width:
                return self.pooled(ids)
            max_length = ids.shape[1]
            lengths = torch.where(ids != 0, torch.arange(1, max_length + 1), 0).amax(1)
            buckets = (lengths.clamp(min=1) - 1) // bucket_width
            pooled = torch.zeros(ids.shape[0], self.gru.hidden_size)
            for bucket, bound in enumerate([*range(bucket_width, max_length, bucket_width), max_length]):
                rows = torch.nonzero(buckets == bucket)[:, 0]
                if len(rows):
                    pooled = pooled.index_copy(0, rows, self.pooled(ids[rows, :bound]))
            return pooled

    class QuickThoughtTwin(nn.Module):
        def __init__(self, vocabulary_size, word_dim, embedding_dim):
            super().__init__()
            self.query = Encoder(vocabulary_size, word_dim, embedding_dim // 2)
            self.context = Encoder(vocabulary_size, word_dim, embedding_dim // 2)

        def loss(self, ids, positions):
            scores = self.query(ids) @ self.context(ids).T
            count = ids.shape[0]
            scores = scores.masked_fill(torch.eye(count, dtype=torch.bool), -1e9)
            total = torch.zeros(count)
            for step in (-1, 1):
                target = torch.arange(count) + step
                safe = target.clamp(0, count - 1)
                weight = ((target >= 0) & (target < count) & (positions[safe] == positions + step)).float()
                total = total + weight * nn.functional.cross_entropy(scores, safe, reduction="none")
            return total.mean()

    class Decoder(nn.Module):
        def __init__(self, vocabulary_size, word_dim, hidden_dim, condition_dim):
            super().__init__()
            self.initial_state = nn.Linear(condition_dim, hidden_dim)
            self.gru = nn.GRU(word_dim + condition_dim, hidden_dim, batch_first=True)
            self.projection = nn.Linear(hidden_dim, word_dim)
            self.logits = nn.Linear(word_dim, vocabulary_size)

        def forward(self, words, condition):
            repeated = condition.unsqueeze(1).expand(-1, words.shape[1], -1)
            initial = torch.tanh(self.initial_state(condition)).unsqueeze(0)
            states, _ = self.gru(torch.cat([words, repeated], dim=-1), initial)
            return self.projection(states)

    class SkipThoughtTwin(nn.Module):
        def __init__(self, vocabulary_size, word_dim, embedding_dim, word_dropout, scored_only=False):
            super().__init__()
            self.scored_only = scored_only  # the vocabulary layer at the words and end symbols only, as the Keras judge
            self.encoder = Encoder(vocabulary_size, word_dim, embedding_dim)
            self.previous = Decoder(vocabulary_size, word_dim, embedding_dim, embedding_dim)
            self.next = Decoder(vocabulary_size, word_dim, embedding_dim, embedding_dim)
            self.word_dropout = word_dropout

        def loss(self, sentence, previous, following):
            thought = self.encoder(sentence)
            total = 0.0
            for decoder, targets in ((self.previous, previous), (self.next, following)):
                dropped = (torch.rand(targets.shape) < self.word_dropout) & (targets != 0)
                inputs = torch.where(dropped, torch.ones_like(targets), targets)
                inputs = torch.cat([torch.zeros_like(inputs[:, :1]), inputs[:, :-1]], dim=1)  # start = row 0
                features = decoder(self.encoder.embedding(inputs), thought)
                length = targets.shape[1]
                words = (targets != 0).sum(1)
                mask = (torch.arange(length)[None, :] < (words + 1).clamp(max=length)[:, None]).float()
                if self.scored_only:
                    scored = mask.bool()
                    tokens = torch.zeros(targets.shape).masked_scatter(scored, nn.functional.cross_entropy(
                        decoder.logits(features[scored]), targets[scored], reduction="none"))
                else:
                    logits = decoder.logits(features)
                    tokens = nn.functional.cross_entropy(  # on a contiguous [tokens, vocabulary]: 10x faster backward
                        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none"
                    ).view(targets.shape)
                total = total + ((tokens * mask).sum(1) / mask.sum(1).clamp(min=1.0)).mean()
            return total

    return QuickThoughtTwin, SkipThoughtTwin


class TorchSide:
    """A twin, its Adam (clipping 5, the recipes' learning rate) and a batch sampler over token ids made once."""

    def __init__(self, module, learning_rate, sample):
        self.module, self.sample = module, sample
        self.optimizer = torch.optim.Adam(module.parameters(), lr=learning_rate)

    def step(self):
        loss = self.module.loss(*self.sample())
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.module.parameters(), 5.0)
        self.optimizer.step()


class KerasSide:
    """The recipe's compiled train function stepping over the recipe's training pipeline."""

    def __init__(self, model, dataset):
        self.model = model
        self.iterator = iter(dataset)
        model.make_train_function()

    def step(self):
        logs = self.model.train_function(self.iterator)
        return logs


def padded_judge_loss(judge):
    """`judge.judge_loss` computing the decoder's logits at every target position and masking the padding's losses
    afterwards, as `NeighbourDecoder` did before it gathered the scored positions (the same loss)."""
    from keras_ae.losses import masked_token_crossentropy

    def judge_loss(batch, code, training=False):
        return masked_token_crossentropy(batch["targets"], judge.decoder(batch["inputs"], code, training=training))

    return judge_loss


def sync_keras(side):
    """Waits for the Keras side's last step: reading a variable forces the queued ops to finish."""
    side.model.optimizer.iterations.numpy()


# ---------------------------------------------------------------------------------------------- the comparison
def build_sides(name, args, splits, vocabulary):
    import keras

    from keras_ae.recipes import quick_thought, skip_thought
    from keras_ae.recipes.text_recipe import training_dataset

    recipe = {"quick": quick_thought, "skip": skip_thought}[name]
    flags = ["--corpus", args.corpus, *args.recipe_flags.split()]
    if args.tokens:
        flags += ["--tokens", args.tokens]
    recipe_args = recipe.build_parser().parse_args(flags)
    keras.utils.set_random_seed(args.seed)
    model = recipe.build_model(recipe_args, vocabulary)
    model.compile(optimizer=keras.optimizers.Adam(recipe_args.learning_rate, global_clipnorm=5.0), jit_compile=False)
    batches = recipe.make_dataset(recipe_args, splits.train, shuffle=True).repeat()
    keras_side = KerasSide(model, training_dataset(model, batches))
    before = unbucketed = None
    if args.unbucketed:
        keras.utils.set_random_seed(args.seed)
        unpacked = ["--no-packed"] if name == "quick" else []
        plain = recipe.build_model(recipe.build_parser().parse_args([*flags, "--bucket-width", "0", *unpacked]),
                                   vocabulary)
        plain.compile(optimizer=keras.optimizers.Adam(recipe_args.learning_rate, global_clipnorm=5.0),
                      jit_compile=False)
        unbucketed = KerasSide(plain, training_dataset(plain, batches))
    also = None
    if args.also:
        keras.utils.set_random_seed(args.seed)
        other = recipe.build_model(recipe.build_parser().parse_args([*flags, *args.also.split()]), vocabulary)
        other.compile(optimizer=keras.optimizers.Adam(recipe_args.learning_rate, global_clipnorm=5.0),
                      jit_compile=False)
        also = KerasSide(other, training_dataset(other, batches))
    padded = None
    if args.padded_logits and name == "skip":
        keras.utils.set_random_seed(args.seed)
        padded_model = recipe.build_model(recipe_args, vocabulary)
        for judge in padded_model.judges:  # the judge as it was: logits at every position, masked afterwards
            judge.judge_loss = padded_judge_loss(judge)
        padded_model.compile(optimizer=keras.optimizers.Adam(recipe_args.learning_rate, global_clipnorm=5.0),
                             jit_compile=False)
        padded = KerasSide(padded_model, training_dataset(padded_model, batches))
    if args.before:
        keras.utils.set_random_seed(args.seed)
        old = recipe.build_model(recipe_args, vocabulary)
        for layer in old._flatten_layers():  # the step as it was: no unrolled loop, no length buckets
            if hasattr(layer, "unroll"):
                layer.unroll = False
            if hasattr(layer, "bucket_width"):
                layer.bucket_width = 0
                layer.packed = False
        old.compile(optimizer=keras.optimizers.Adam(recipe_args.learning_rate, global_clipnorm=5.0), jit_compile=False)
        before = KerasSide(old, batches)

    encoder = model.encoder
    ids = encoder.tokenize(np.asarray(splits.train.sentences, dtype=object)).numpy()  # tokens prepared once
    ids = torch.from_numpy(ids.astype(np.int64))
    size, batch = encoder.vocabulary_size, recipe_args.batch_size
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    twins = [twin_modules()]
    if recipe_args.bucket_width:
        twins.append(twin_modules(recipe_args.bucket_width))
    if getattr(recipe_args, "packed", False):
        twins.append(twin_modules(packed=True))
    if name == "quick":
        positions = torch.from_numpy(splits.train.positions())
        chunk = recipe_args.chunk_size or batch

        def sample():
            starts = rng.integers(0, len(ids) - chunk, batch // chunk)
            index = torch.from_numpy((starts[:, None] + np.arange(chunk)[None, :]).reshape(-1))
            return ids[index], positions[index]

        twins = [quick(size, recipe_args.word_dim, recipe_args.embedding_dim) for quick, _ in twins]
        label = f"Quick-thought (batch {batch}, stretches of {chunk})"
    else:
        middle = torch.from_numpy(splits.train.neighbour_index())
        length = model.decoder_length

        def sample():
            index = middle[torch.from_numpy(rng.integers(0, len(middle), batch))]
            return ids[index], ids[index - 1, :length], ids[index + 1, :length]

        twins = [skip(size, recipe_args.word_dim, recipe_args.embedding_dim, recipe_args.word_dropout)
                 for _, skip in twins]
        if args.padded_logits:
            twins.append(twins[0].__class__(size, recipe_args.word_dim, recipe_args.embedding_dim,
                                            recipe_args.word_dropout, scored_only=True))
        label = f"Skip-thought (batch {batch}, decoders {length} tokens)"
    keras_label = ("Keras (packed)" if getattr(recipe_args, "packed", False)
                   else f"Keras (buckets of {recipe_args.bucket_width})" if recipe_args.bucket_width else "Keras")
    sides = {keras_label: keras_side,
             "PyTorch": TorchSide(twins[0], recipe_args.learning_rate, sample)}
    for twin in twins[1:]:
        twin.load_state_dict(twins[0].state_dict())
        key = ("PyTorch, scored positions only" if getattr(twin, "scored_only", False)
               else "PyTorch, packed sequences" if getattr(recipe_args, "packed", False)
               else f"PyTorch, by length (buckets of {recipe_args.bucket_width})")
        sides[key] = TorchSide(twin, recipe_args.learning_rate, sample)
    if unbucketed is not None:
        sides["Keras, no buckets"] = unbucketed
    if also is not None:
        sides[f"Keras {args.also}"] = also
    if padded is not None:
        sides["Keras, logits at every position"] = padded
    if before is not None:
        sides["Keras before (strings in the step, masked loop)"] = before
    return label, batch, sides


def time_chunk(side, seconds, sync=None):
    """Steps `side` for about `seconds`; returns (steps, seconds, CPU seconds of the process: every thread's, so
    the input pipeline's too)."""
    steps, started, cpu_started = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        side.step()
        steps += 1
    if sync:
        sync(side)
    return steps, time.perf_counter() - started, time.process_time() - cpu_started


def compare(label, batch, sides, args):
    """Times every side in alternating chunks; one row per side: sentences per second, the ratio to the plain
    twin's, CPU ms per step, sentences per CPU-second, steps timed."""
    sync = {key: None if isinstance(side, TorchSide) else sync_keras for key, side in sides.items()}
    for key, side in sides.items():  # warm-up: tracing, the pipeline's first buffers, allocator
        time_chunk(side, min(args.chunk, 3.0), sync[key])
    totals = {key: [0, 0.0, 0.0] for key in sides}
    rounds = max(1, round(args.seconds / args.chunk))
    for _ in range(rounds):
        for key, side in sides.items():
            measured = time_chunk(side, args.chunk, sync[key])
            totals[key] = [total + value for total, value in zip(totals[key], measured)]
    twin_rate = totals["PyTorch"][0] * batch / totals["PyTorch"][1]
    rows = []
    for key, (steps, seconds, cpu_seconds) in totals.items():
        rate = steps * batch / seconds
        rows.append({"model": label, "side": key, "rate": rate, "ratio": rate / twin_rate,
                     "cpu": 1000 * cpu_seconds / steps, "per_cpu_second": steps * batch / cpu_seconds, "steps": steps})
    return rows


def main(argv=None):
    args = parse_args(argv)
    if torch is None:
        raise SystemExit(TORCH_HINT)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    import tensorflow as tf

    from keras_ae.data.corpus import CORPORA, load_corpus
    from keras_ae.data.text import load_text
    from keras_ae.recipes import quick_thought
    from keras_ae.recipes.text_recipe import recipe_vocabulary

    defaults = quick_thought.build_parser().parse_args(["--corpus", args.corpus, *args.recipe_flags.split()])
    tokens = args.tokens or defaults.tokens
    streamed = args.corpus in CORPORA and args.corpus != "austen"
    splits = load_corpus(args.corpus) if streamed else load_text(args.corpus, max_length=defaults.max_length)
    vocabulary = recipe_vocabulary(argparse.Namespace(**{**vars(defaults), "tokens": tokens,
                                                         "vocabulary_sentences": args.vocabulary_sentences}),
                                   splits.train.sentences)
    rows = []
    for name in [model.strip() for model in args.models.split(",") if model.strip()]:
        rows += compare(*build_sides(name, args, splits, vocabulary), args)
        print(f"{rows[-1]['model']}: " + ", ".join(f"{row['side']} {row['rate']:.0f}" for row in rows
                                                   if row["model"] == rows[-1]["model"]) + " sentences/s", flush=True)
    print(f"\n{splits.name}, {tokens} vocabulary {len(vocabulary) + 2}, {args.seconds:.0f} s timed per side in "
          f"chunks of {args.chunk:.0f} s; TensorFlow {tf.__version__} (threads: default), PyTorch {torch.__version__} "
          f"({torch.get_num_threads()} threads, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}); shared machine: "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'model':<46}{'side':<46}{'sent/s':>8}{'/ PyTorch':>10}{'CPU ms/step':>12}{'sent/CPU-s':>11}"
          f"{'steps':>7}")
    for row in rows:
        print(f"{row['model']:<46}{row['side']:<46}{row['rate']:>8.0f}{row['ratio']:>10.2f}{row['cpu']:>12.0f}"
              f"{row['per_cpu_second']:>11.0f}{row['steps']:>7}")
    print("/ PyTorch: sentences per second against the plain twin's. CPU ms/step and sentences per CPU-second: the "
          "process's CPU time (all threads), the load-independent share of the cost.")
    return rows


if __name__ == "__main__":
    main()
