"""Tree as the latent (compound PCFG): `python -m keras_ae.recipes.tree_latent [--data synthetic|austen|books|prose|
all|FILE.txt] [--gold-trees FILE] [--test-trees FILE] [--max-length N] [--test-max-length N] [--curriculum-start N]
...`.

Trains the compound PCFG (sentence encoder -> z -> a grammar that generates the sentence, scored exactly by the inside
algorithm) and, as its ablation, the neural PCFG (one grammar, no z) on sentences of at most `--max-length` words,
then prints the table: unlabelled F1 against gold trees (sentence-level and corpus-level, trivial spans discarded)
beside right-branching, left-branching and random trees, and test perplexity (from the ELBO for the compound PCFG,
exact for the neural PCFG) beside an LSTM language model of about the same size; with gold trees, a second table says
where each parser wins or loses against right-branching (standard errors, the paired difference, how transitive
clauses are grouped, recall by constituent type). `--curriculum-start` trains short sentences first (Kim et al.'s
length curriculum; off by default: it did not help, see docs/results/tree_latent.md). As Kim et al. select their
checkpoint, the epoch with the lowest validation loss is the one evaluated and exported (`--no-select-best`: the last);
gradients are clipped to their global norm 3 (`--clip-norm`). Trees are minimum-Bayes-risk parses by default
(`--decoding viterbi`: the most probable tree, as Kim et al. decode; `--right-edge-bonus B` adds B per span that ends at
the last word to the MBR tree's score, a prior for English in parsing only; `--right-edge-prior R` weights each tree in
the training loss by exp(R * its spans ending at the last word), the same prior in training only, on by default for text
(`ENGLISH_RIGHT_EDGE_PRIOR`: the named English corpora, your own files and treebanks; an English prior, so
`--right-edge-prior 0` for a head-final language such as Japanese or Turkish) and off for the synthetic treebank,
whose target is met without it); with gold trees the
F1 of both decodings of the same weights goes to metrics.json, and `--epoch-f1` adds both after every epoch, with the
test perplexity (a diagnostic: nothing is selected by it). The default data is the built-in synthetic treebank, sampled
from a hand-written English-like grammar, whose trees are the gold standard (`--synthetic-grammar 1|2|3|4`; the
default, 3, has VP coordination, to-infinitives and imperatives, verb phrases without their subject in front, which
grammar 1 lacks: without them the likelihood cannot tell `(verb object)` from `(subject verb)`, see
docs/results/tree_latent.md); `--gold-trees` scores against your own Penn Treebank trees (one per sentence of `--data`,
or alone: the trees' leaves are the sentences). The run folder gets metrics.json, example trees (gold beside both
models) and the training curves; the compound PCFG is exported with `encode` (z) and `parse` (bracketed trees)
signatures.
"""

import json
import shutil
import time
from pathlib import Path

import keras
import tensorflow as tf

from keras_ae import plots
from keras_ae.config import keyword_defaults
from keras_ae.core.restarts import best_of_restarts
from keras_ae.core.validation import non_negative_float, non_negative_int, positive_int, share
from keras_ae.data.corpus import CORPORA
from keras_ae.data.trees import (
    SYNTHETIC_GRAMMARS,
    build_vocabulary,
    curriculum_lengths,
    load_tree_data,
    make_curriculum_dataset,
    make_sentence_dataset,
)
from keras_ae.distribute import get_strategy, is_chief
from keras_ae.evaluation.trees import (
    TreeScorer,
    baseline_f1,
    compare_to_right_branching,
    lstm_language_model_perplexity,
    parsing_f1,
    tree_shape,
)
from keras_ae.layers.judges.grammar import DECODINGS
from keras_ae.models.tree_latent import TreeLatent
from keras_ae.recipes.common import (
    RunFolder,
    export_run,
    format_table,
    parse_flags,
    print_summary,
    recipe_parser,
    refuse_jit_compile,
)
from keras_ae.runs import CHECKPOINT_FOLDER, checkpoints
from keras_ae.tensorboard import EpochSummaries, tree_samples, write_projector

DEFAULTS = keyword_defaults(TreeLatent)
CURRICULUM = keyword_defaults(make_curriculum_dataset)
DEFAULT_GRAMMAR_VERSION = keyword_defaults(load_tree_data)["synthetic_grammar"]
DEFAULT_CLAUSE_PIECES = keyword_defaults(load_tree_data)["clause_pieces"]
DEFAULT_DROP_REPEATS = keyword_defaults(load_tree_data)["drop_repeats"]
QUICK = {"epochs": 1, "synthetic_size": 200, "batch_size": 16, "nonterminals": 4, "preterminals": 6,
         "symbol_dim": 16, "embedding_dim": 4, "lm_epochs": 1}
SAMPLES = 4  # test sentences whose parses go to TensorBoard every epoch
COLUMNS = ["sentence_f1", "corpus_f1", "perplexity", "kl", "train_seconds"]
LABELS = 6  # constituent types (the most frequent in the gold trees) whose recall the second table shows
INPUTS = "inputs"  # a run folder's copies of its gold-tree files, where `run_flags` looks first
TREE_FILE_FLAGS = ("gold_trees", "test_trees", "held_out_trees")
# --right-edge-prior for text (the named English corpora, files, treebanks): of 0, 0.02, 0.05, 0.1 and 0.2, the one
# with the highest mean sentence F1 on the dev half of the Austen gold trees (seeds 0 and 1; the test half and the
# second gold set unused), `benchmarks/tree_prior_selection.py`, docs/results/tree_latent.md "Session 23"; 0 for the
# synthetic treebank.
ENGLISH_RIGHT_EDGE_PRIOR = 0.05


def build_parser():
    parser = recipe_parser(
        "tree_latent",
        __doc__.splitlines()[0],
        defaults={"data": "synthetic", "epochs": 4, "batch_size": 32, "learning_rate": 2e-3,
                  "embedding_dim": DEFAULTS["code_dim"]},
    )
    parser.add_argument("--gold-trees", help="Penn Treebank bracket file: one gold tree per sentence of --data")
    parser.add_argument(
        "--test-trees", help="Penn Treebank bracket file whose trees replace the test split (e.g. hand-bracketed "
        "held-out sentences: benchmarks/data/austen_gold_trees.mrg with --data austen)"
    )
    parser.add_argument(
        "--held-out-trees", nargs="+", default=[], metavar="FILE", help="more gold bracket files the run will be "
        "scored on later (benchmarks/tree_right_edge.py --test-trees FILE): training and validation sentences equal "
        "to theirs are dropped, as for --test-trees; the test split is unchanged"
    )
    parser.add_argument("--max-length", type=int, default=10, help="longer sentences are skipped (and counted)")
    parser.add_argument(
        "--test-max-length", type=int, default=None, help="longer test sentences (or --test-trees) are skipped "
        "(default: --max-length); e.g. --max-length 15 --test-max-length 10 trains on longer sentences and scores "
        "on the same short ones"
    )
    parser.add_argument(
        "--clause-pieces", action="store_true", default=DEFAULT_CLAUSE_PIECES, help="with a named text corpus: a "
        "training sentence longer than --max-length gives its pieces between semicolons, colons and dashes that "
        "fit (more short in-domain text) instead of nothing; validation and test keep whole sentences"
    )
    parser.add_argument(
        "--drop-repeats", action="store_true", default=DEFAULT_DROP_REPEATS, help="the training and validation "
        "splits keep one copy of each sentence (ignoring case)"
    )
    parser.add_argument(
        "--max-opening-share", type=share, default=None, help="at most this share (0..1] of the training (and of the "
        "validation) sentences open with the same two words, so that boilerplate openings (Debian's 'This package') "
        "cannot dominate; default: no cap"
    )
    parser.add_argument(
        "--steps-per-epoch", type=positive_int, default=None, help="updates per epoch, drawn from an endless stream "
        "of the training sentences reshuffled every pass (default: one pass an epoch); the same number of updates "
        "on corpora of different sizes"
    )
    parser.add_argument("--nonterminals", type=int, default=DEFAULTS["num_nonterminals"], help="NT symbols")
    parser.add_argument("--preterminals", type=int, default=DEFAULTS["num_preterminals"], help="T symbols")
    parser.add_argument("--symbol-dim", type=int, default=DEFAULTS["symbol_dim"], help="grammar embedding size")
    parser.add_argument("--encoder-dim", type=int, default=DEFAULTS["encoder_dim"], help="sentence encoding size")
    parser.add_argument(
        "--suffix-length", type=non_negative_int, default=DEFAULTS["suffix_length"], help="word-form features: each "
        "word's emission score also uses embeddings of its suffixes of 1 to N characters shared with other "
        "vocabulary words, so rare words share statistics by their ending (-ed, -ly, -ing); 0: off"
    )
    parser.add_argument("--prefix-length", type=non_negative_int, default=DEFAULTS["prefix_length"],
                        help="the same with prefixes of 1 to N characters; 0: off")
    parser.add_argument(
        "--late-split-penalty", type=non_negative_float, default=DEFAULTS["late_split_penalty"], help="a structural "
        "prior for English, in training only: adds B * -log P(the root's left child covers at most half the "
        "sentence) to the loss (1: train on the trees with an early first split only); wrong for head-final "
        "languages; 0: off"
    )
    parser.add_argument(
        "--rule-rank", type=non_negative_int, default=DEFAULTS["rule_rank"], help="low-rank binary rules (TN-PCFG, "
        "Yang, Zhao & Tu 2021): P(A -> B C) = sum over R ranks of U[A,r] V[B,r] W[C,r], so that --nonterminals and "
        "--preterminals can be in the hundreds (the paper: 250, 500, rank 500); MBR decoding only; 0: full rules"
    )
    parser.add_argument(
        "--right-edge-bonus", type=non_negative_float, default=DEFAULTS["right_edge_bonus"], help="right "
        "association, a prior for English in parsing only: the MBR tree's score adds B for each span that ends at "
        "the sentence's last word (large B: right-branching trees); MBR decoding only; 0: off"
    )
    parser.add_argument(
        "--right-edge-prior", type=non_negative_float, default=None, help="right association, a prior for English in "
        "training only: each tree's probability in the loss is weighted by exp(R * its constituents that end at the "
        "last word, the whole sentence aside), a soft pull toward verb phrases and clauses that run to the end; "
        "parsing, the ELBO and perplexity read the grammar alone; default: "
        f"{ENGLISH_RIGHT_EDGE_PRIOR} for text (the named English corpora, your own files and treebanks; give 0 for a "
        f"head-final language such as Japanese or Turkish), {DEFAULTS['right_edge_prior']:g} (off) for the synthetic "
        "treebank"
    )
    parser.add_argument("--kl-weight", type=non_negative_float, default=DEFAULTS["kl_weight"],
                        help="weight of the KL term on z (1: the ELBO; the compound PCFG only)")
    parser.add_argument("--vocabulary-size", type=int, default=10000, help="most frequent training words")
    parser.add_argument("--synthetic-size", type=int, default=4000, help="training sentences of the synthetic set")
    parser.add_argument(
        "--synthetic-grammar", type=int, choices=sorted(SYNTHETIC_GRAMMARS), default=DEFAULT_GRAMMAR_VERSION,
        help="version of the synthetic treebank's grammar: 1, the original (the default before 2026-12-05); 2 adds "
        "VP coordination and to-infinitives; 3 (the default) adds imperatives to 2, so verb phrases also stand "
        "without their subject in front, which lets the likelihood tell (verb object) from (subject verb); 4, "
        "imperatives alone added to 1 (keras_ae.data.trees.SYNTHETIC_GRAMMARS)"
    )
    parser.add_argument("--lm-epochs", type=int, default=5, help="epochs of the LSTM language model baseline")
    parser.add_argument(
        "--restarts", type=int, default=1, help="random starts per model, each warmed up for --warmup-steps; the "
        "one with the lowest validation loss (negative ELBO, no gold trees) is trained on"
    )
    parser.add_argument("--warmup-steps", type=int, default=60, help="training steps of each restart's warm-up")
    parser.add_argument(
        "--curriculum-start", type=int, default=CURRICULUM["start_length"], help="length curriculum (Kim et al.'s "
        "len_incr): epoch 1 trains on sentences of at most this many words, each later epoch on --curriculum-step "
        "more, up to --max-length (default: no curriculum)"
    )
    parser.add_argument("--curriculum-step", type=int, default=CURRICULUM["length_step"],
                        help="words added to the curriculum's length limit each epoch")
    parser.add_argument(
        "--length-batches", action="store_true", default=CURRICULUM["by_length"], help="batch sentences of one length "
        "together, as Kim et al. do: no padding in the inside algorithm, so long sentences cost far less"
    )
    parser.add_argument(
        "--clip-norm", type=non_negative_float, default=3.0, help="gradients are clipped to this global norm (Kim et "
        "al.'s max_grad_norm 3; 0: no clipping)"
    )
    parser.add_argument(
        "--no-select-best", dest="select_best", action="store_false", help="keep the last epoch's weights instead of "
        "the epoch with the lowest validation loss (Kim et al. keep their best validation perplexity checkpoint)"
    )
    parser.add_argument(
        "--decoding", choices=DECODINGS, default=DEFAULTS["decoding"], help="how a tree is read off the grammar: mbr, the tree "
        "with the most expected correct spans (span marginals), or viterbi, the most probable labelled tree (Kim et "
        "al.'s); both are scored on gold trees either way"
    )
    parser.add_argument(
        "--epoch-f1", action="store_true", help="diagnostic: after every epoch, print the test F1 of both decodings "
        "and the test perplexity (needs gold trees; never used to select; z's noise stream is put back after it)"
    )
    parser.add_argument("--no-ablation", dest="ablation", action="store_false", help="skip the neural PCFG")
    parser.add_argument("--no-lm", dest="lm", action="store_false", help="skip the LSTM language model")
    parser.epilog = "--embedding-dim is the size of z (0 trains only the neural PCFG)."
    parser._option_string_actions["--embedding-dim"].type = non_negative_int  # the shared flag refuses 0
    return parser


def build_model(args, vocabulary, code_dim, seed):
    return TreeLatent(
        vocabulary, num_nonterminals=args.nonterminals, num_preterminals=args.preterminals,
        symbol_dim=args.symbol_dim, code_dim=code_dim, encoder_dim=args.encoder_dim,
        max_length=max(args.max_length, args.test_max_length or 0),  # the encoder reads every test word too
        kl_weight=args.kl_weight, seed=seed, decoding=args.decoding, suffix_length=args.suffix_length,
        prefix_length=args.prefix_length, late_split_penalty=args.late_split_penalty, rule_rank=args.rule_rank,
        right_edge_bonus=args.right_edge_bonus, right_edge_prior=right_edge_prior(args),
    )


def right_edge_prior(args):
    """`--right-edge-prior` as given, else its default for the data: the constructor's (0, off) for the built-in
    synthetic treebank, `ENGLISH_RIGHT_EDGE_PRIOR` for text (`default_right_edge_prior`).

    Example:
        right_edge_prior(build_parser().parse_args(["--data", "austen"]))   # ENGLISH_RIGHT_EDGE_PRIOR
    """
    if args.right_edge_prior is not None:
        return args.right_edge_prior
    return default_right_edge_prior(args.data, args.gold_trees)


def default_right_edge_prior(data, gold_trees=None):
    """The right-edge prior a run on `data` (a `--data` value) trains with unless told: off for the built-in synthetic
    treebank (its target is met without it), `ENGLISH_RIGHT_EDGE_PRIOR` for text (the named English corpora, a file of
    sentences, the leaves of `gold_trees`); the recipe cannot tell a language, and the prior is an English one.

    Example:
        default_right_edge_prior("synthetic"), default_right_edge_prior("my_sentences.txt")   # 0.0, 0.05
    """
    if (data or "synthetic") == "synthetic" and not gold_trees:
        return DEFAULTS["right_edge_prior"]
    return ENGLISH_RIGHT_EDGE_PRIOR


def load_run_data(args):
    """The `TreeData` the recipe's flags (or a finished run's, `run_flags`) give: `--data`, `--gold-trees`,
    `--test-trees`, the training and test length limits, the synthetic treebank's size, seed and grammar, repeats
    and openings thinned, and `--limit` on the training sentences."""
    data = load_tree_data(args.data, gold_trees=args.gold_trees, max_length=args.max_length,
                          synthetic_size=args.synthetic_size, seed=args.seed, test_trees=args.test_trees,
                          synthetic_grammar=args.synthetic_grammar, test_max_length=args.test_max_length,
                          clause_pieces=args.clause_pieces, held_out_trees=args.held_out_trees,
                          drop_repeats=args.drop_repeats, max_opening_share=args.max_opening_share)
    if args.limit:
        data.train = data.train[: args.limit]
    return data


def build_optimizer(args):
    """Kim et al.'s optimiser: Adam with beta_1 = 0.75 (beta_2 0.999), gradients clipped to a global norm of
    `--clip-norm` (their 3; 0 turns clipping off)."""
    clip = {"global_clipnorm": args.clip_norm} if args.clip_norm else {}
    return keras.optimizers.Adam(args.learning_rate, beta_1=0.75, beta_2=0.999, **clip)


def tree_files(args):
    """The gold-tree files a run's flags name (`TREE_FILE_FLAGS`), as `[(flag, path)]`."""
    named = [(flag, getattr(args, flag)) for flag in TREE_FILE_FLAGS]
    return [(flag, str(path)) for flag, value in named if value
            for path in (value if isinstance(value, (list, tuple)) else [value])]


def keep_tree_files(args, folder):
    """Copies the run's gold-tree files into `folder/inputs/`, where `run_flags` finds them once the originals have
    moved or changed (a run's training data depends on them: their sentences leave training)."""
    for _, path in tree_files(args):
        target = Path(folder) / INPUTS / Path(path).name
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, target)


def run_flags(folder):
    """A finished run's flags as this recipe's `argparse.Namespace` (flags the run predates take today's defaults,
    except the synthetic grammar: a run from before `--synthetic-grammar` sampled grammar 1; and the right-edge
    prior: a run from before `--right-edge-prior` trained without one). A gold-tree file (and a
    `--data` file) is the run folder's copy in `inputs/` when it has one (the recipe keeps one since issue-15 session
    19), else the path the run was given; when neither is there, a `FileNotFoundError` says where to put the file."""
    folder = Path(folder)
    args = build_parser().parse_args([])
    # runs from before --synthetic-grammar sampled grammar 1; runs from before --right-edge-prior trained without it
    stored = json.loads((folder / "config.json").read_text())["flags"]
    stored = {"synthetic_grammar": 1, "right_edge_prior": 0.0, **stored}
    for name, value in stored.items():
        setattr(args, name, value)
    for flag in TREE_FILE_FLAGS:
        value = getattr(args, flag)
        if isinstance(value, (list, tuple)):
            setattr(args, flag, [_run_file(folder, flag, path) for path in value])
        elif value:
            setattr(args, flag, _run_file(folder, flag, value))
    if args.data and args.data != "synthetic" and args.data not in CORPORA:
        args.data = _run_file(folder, "data", args.data)
    return args


def _run_file(folder, flag, path):
    kept = folder / INPUTS / Path(path).name
    if kept.is_file():
        return str(kept)
    if Path(path).is_file():
        return str(path)
    raise FileNotFoundError(
        f"{folder} was trained with --{flag.replace('_', '-')} {path}, which is not there any more (moved or "
        f"deleted), and the run folder keeps no copy of it: put that same file at {kept} (looked at first) or back "
        f"at {path}."
    )


def rebuild_run(folder, epoch=None):
    """`(args, data, model)` of a finished run, rebuilt from its flags as `main` builds them: the same data and
    vocabulary, and the compound (or neural) PCFG with the run's initial weights, or with the weights of its
    checkpoint after `epoch` (`"selected"`: the epoch metrics.json says was kept; the run folder keeps the last
    two). Files are found as `run_flags` finds them; data of other sizes than metrics.json records (a gold file
    changed since the run) raise a `ValueError` before any model is built."""
    folder = Path(folder)
    args = run_flags(folder)
    data = load_run_data(args)
    metrics_file = folder / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else None  # read once
    trained = metrics and metrics.get("sentences")
    found = {split: len(getattr(data, split)) for split in ("train", "validation", "test")}
    if trained and trained != found:
        raise ValueError(
            f"{folder}: its data now give {found} sentences where the run had {trained}: a file it was given (a gold "
            f"file: its sentences leave training) is not the one it was trained with. Put the run's own files in "
            f"{folder / INPUTS}/."
        )
    keras.utils.set_random_seed(args.seed)  # the recipe's initial weights for this seed
    model = build_model(args, build_vocabulary(data.train, size=args.vocabulary_size), args.embedding_dim, args.seed)
    if epoch == "selected":
        if metrics is None:
            raise FileNotFoundError(f"{metrics_file} is missing: the run has not finished, so no epoch was selected.")
        epoch = metrics.get("selected_epoch", args.epochs)
    if epoch is not None:
        kept = dict(checkpoints(folder / CHECKPOINT_FOLDER))
        if epoch not in kept:
            raise ValueError(f"{folder}: no checkpoint of epoch {epoch} (kept: {sorted(kept) or 'none'}).")
        model.load_weights(kept[epoch])
    return args, data, model


def training_batches(args, sentences):
    """`(dataset, steps_per_epoch)` for `model.fit`: with `--steps-per-epoch N`, N batches an epoch from an endless
    stream of `sentences` reshuffled every pass (equal updates whatever the corpus's size); else one pass an epoch,
    or the length curriculum's stages (`make_curriculum_dataset`)."""
    if args.steps_per_epoch:
        batches = make_sentence_dataset(sentences, args.batch_size, shuffle=True, seed=args.seed,
                                        by_length=args.length_batches)
        return batches.repeat(), args.steps_per_epoch
    return make_curriculum_dataset(sentences, args.batch_size, args.epochs, args.curriculum_start,
                                   args.curriculum_step, seed=args.seed, by_length=args.length_batches)


def train(args, strategy, data, vocabulary, code_dim, callbacks):
    """Builds (the best of `--restarts` warm-ups), trains and evaluates one model: `(model, row, trees, history)`."""

    def build(seed):
        keras.utils.set_random_seed(seed)  # each start's initial weights and noise streams come from its own seed
        with strategy.scope():
            model = build_model(args, vocabulary, code_dim, seed)
            model.compile(optimizer=build_optimizer(args), jit_compile=False)  # no XLA: string ops
        return model

    started = time.perf_counter()
    validation = make_sentence_dataset(data.validation, args.batch_size)
    warmup = make_sentence_dataset(data.train, args.batch_size, shuffle=True, seed=args.seed,
                                   by_length=args.length_batches).repeat()
    model, restart_losses = best_of_restarts(build, warmup, validation, args.restarts, args.warmup_steps, args.seed)
    batches, steps = training_batches(args, data.train)
    # Kim et al.'s model selection: the checkpoint (here: the epoch) with the lowest validation loss is kept.
    best = None
    if args.select_best:
        best = keras.callbacks.EarlyStopping(patience=args.epochs + 1, restore_best_weights=True)
    scorer = TreeScorer(model)  # one set of traced parse and ELBO functions for every evaluation of this model
    per_epoch = EpochParses(scorer, data.test, data.test_trees) if args.epoch_f1 else None
    history = model.fit(batches, validation_data=validation, epochs=args.epochs, steps_per_epoch=steps,
                        callbacks=callbacks + ([per_epoch] if per_epoch else []) + ([best] if best else []), verbose=2)
    seconds = time.perf_counter() - started
    row, trees = scorer.evaluate(data.test, data.test_trees)
    row = {**row, "train_seconds": round(seconds, 1)}
    if data.test_trees is not None:  # the same weights read with each decoding
        row["f1_by_decoding"] = {
            decoding: parsing_f1(trees if decoding == args.decoding else scorer.parse(data.test, decoding),
                                 data.test_trees)
            for decoding in model.grammar.decodings
        }
    if best is not None:
        row["selected_epoch"] = best.best_epoch + 1
    if per_epoch is not None:
        row["by_epoch"] = per_epoch.rows
    if restart_losses:
        row["restart_validation_losses"] = [round(loss, 4) for loss in restart_losses]
    return model, row, trees, history.history


def main(argv=None):
    parser = build_parser()
    args = parse_flags(parser, argv, quick=QUICK)
    refuse_jit_compile(parser, args)
    if args.embedding_dim < 0:
        parser.error(f"--embedding-dim (the size of z) must be 0 or more; got {args.embedding_dim}.")
    if args.restarts < 1 or args.warmup_steps < 1:
        parser.error(f"--restarts and --warmup-steps must be 1 or more; got {args.restarts} and {args.warmup_steps}.")
    if args.rule_rank and args.decoding == "viterbi":
        parser.error(f"--decoding viterbi needs the full rule tensor; --rule-rank {args.rule_rank} gives low-rank rules, "
                     "which have no most probable tree: use --decoding mbr (the default) or --rule-rank 0.")
    if args.right_edge_bonus and args.decoding == "viterbi":
        parser.error(f"--right-edge-bonus {args.right_edge_bonus} biases the MBR tree; the Viterbi tree has no span "
                     "scores to add it to: use --decoding mbr (the default) or --right-edge-bonus 0.")
    if args.epoch_f1 and not (args.gold_trees or args.test_trees or args.data == "synthetic"):
        parser.error("--epoch-f1 scores parses against gold trees: give --gold-trees or --test-trees (or the "
                     "synthetic data).")
    if args.test_max_length is not None and args.test_max_length > args.max_length and not args.test_trees:
        parser.error(f"--test-max-length {args.test_max_length} is above --max-length {args.max_length}: only "
                     "--test-trees can hold longer test sentences than the training ones.")
    if args.steps_per_epoch and args.curriculum_start is not None:
        parser.error(f"--steps-per-epoch {args.steps_per_epoch} draws every epoch from all training sentences; a "
                     "length curriculum (--curriculum-start) makes each epoch one pass over a growing subset: give "
                     "one of the two.")
    names = [Path(path).name for _, path in tree_files(args)]
    if len(set(names)) < len(names):
        parser.error(f"The gold-tree files ({', '.join(path for _, path in tree_files(args))}) must have different "
                     "file names: the run folder keeps a copy of each by name.")
    if args.curriculum_start is not None:
        try:
            lengths = curriculum_lengths(args.epochs, args.curriculum_start, args.curriculum_step, args.max_length)
        except ValueError as error:
            parser.error(f"--curriculum-start / --curriculum-step: {error}")
        print(f"length curriculum: at most {', '.join(map(str, lengths))} words in epochs 1..{args.epochs}")
    prior_given = args.right_edge_prior is not None
    args.right_edge_prior = right_edge_prior(args)  # the value used goes to config.json and metrics.json
    if args.right_edge_prior:
        print(f"right-edge prior in training: {args.right_edge_prior:g}"
              + ("" if prior_given else " (the default for text, an English prior: --right-edge-prior 0 turns it "
                 "off, e.g. for a head-final language)"))
    run = RunFolder.for_flags(args)  # refuses unsafe run and export folders before any work
    strategy = get_strategy(args.strategy)
    data = load_run_data(args)
    vocabulary = build_vocabulary(data.train, size=args.vocabulary_size)
    print(
        f"{data.name}{f' (grammar {args.synthetic_grammar})' if data.name == 'synthetic' else ''}: "
        f"{len(data.train)} train, {len(data.validation)} validation, {len(data.test)} test sentences "
        f"of 2..{args.max_length} words ({data.skipped_long} longer and {data.skipped_short} shorter skipped; "
        f"test: {_length_range(data.test)} words); "
        f"gold trees: {'yes' if data.test_trees is not None else 'none'}; vocabulary {len(vocabulary)}; "
        f"{strategy.num_replicas_in_sync} replica(s)"
        + (f"; {data.dropped_test_duplicates} copies of test sentences dropped" if data.dropped_test_duplicates else "")
        + (f"; {data.clause_pieces} of the training sentences are clause pieces" if data.clause_pieces else "")
        + (f"; {data.repeats_dropped} repeated sentences dropped" if data.repeats_dropped else "")
        + (f"; {data.openings_capped} sentences of over-common openings dropped" if data.openings_capped else "")
    )
    rows, trees = {}, {}
    with run:
        run.write_config()
        if is_chief():
            keep_tree_files(args, run.path)
        if data.test_trees is not None:
            baselines = baseline_f1(data.test_trees, seed=args.seed)
            rows.update({name.replace("_", "-"): row for name, row in baselines.items()})
        name = "compound PCFG" if args.embedding_dim else "neural PCFG"
        gold = None if data.test_trees is None else data.test_trees[:SAMPLES]
        samples = EpochSummaries(run.file("tensorboard"), tree_samples(data.test[:SAMPLES], gold))
        model, rows[name], trees[name], history = train(
            args, strategy, data, vocabulary, args.embedding_dim, run.callbacks() + [samples]
        )
        if args.ablation and args.embedding_dim:
            _, rows["neural PCFG"], trees["neural PCFG"], _ = train(args, strategy, data, vocabulary, 0, [])
        if args.lm:
            lm_perplexity, lm_parameters = lstm_language_model_perplexity(
                data.train, data.test, vocabulary, hidden_dim=args.symbol_dim, word_dim=args.encoder_dim,
                epochs=args.lm_epochs, seed=args.seed,
            )
            rows[f"LSTM LM ({lm_parameters:,} parameters)"] = {"perplexity": lm_perplexity}
        metrics = {
            "data": data.name,
            **({"synthetic_grammar": args.synthetic_grammar} if data.name == "synthetic" else {}),
            "sentences": {"train": len(data.train), "validation": len(data.validation), "test": len(data.test)},
            "skipped_long": data.skipped_long,
            "skipped_short": data.skipped_short,
            "dropped_test_duplicates": data.dropped_test_duplicates,
            "clause_pieces": data.clause_pieces,
            "repeats_dropped": data.repeats_dropped,
            "openings_capped": data.openings_capped,
            "max_length": args.max_length,
            "test_max_length": args.test_max_length or args.max_length,
            "test_lengths": _length_range(data.test),
            "curriculum": None if args.curriculum_start is None else curriculum_lengths(
                args.epochs, args.curriculum_start, args.curriculum_step, args.max_length),
            "seed": args.seed,
            "right_edge_prior": args.right_edge_prior,
            "parameters": model.count_params(),
            "final_losses": {key: values[-1] for key, values in history.items()},
            "table": rows,
            **{key: value for key, value in rows[name].items()},
        }
        table = format_table(rows, COLUMNS)
        for parser_name, row in rows.items():
            if "f1_by_decoding" in row:
                table += f"\n{parser_name}, sentence F1 of the same weights by decoding: " + ", ".join(
                    f"{decoding} {scores['sentence_f1']:.1f}" for decoding, scores in row["f1_by_decoding"].items())
        if "by_epoch" in rows[name]:
            table += "\n\n" + format_table({f"{name}, epoch {row['epoch']}": row for row in rows[name]["by_epoch"]},
                                             list(rows[name]["by_epoch"][0])[1:])
        if data.test_trees is not None:
            compared = compare_to_right_branching(trees, data.test_trees)
            metrics["compared_to_right_branching"] = compared
            table += "\n\n" + _comparison_table(compared)
        run.write_json("metrics.json", metrics)
        run.write_json("test_trees.json", {"sentences": data.test, **trees})
        if is_chief():
            plots.history_curves(history, run.file("history.png"), title=name)
            _tree_figure(data, trees, run.file("trees.png"))
            if args.embedding_dim:  # the projector of the test sentences' z, searchable by sentence and length
                write_projector(run.file("tensorboard"), model.encode(tf.constant(data.test)),
                                {"sentence": data.test, "words": [len(s.split()) for s in data.test]},
                                name="test sentences (z)")
        export_path = export_run(model, args.export_dir, metrics, flags=vars(args)) if args.export else None
    print_summary(run, export_path, table)
    return metrics


def tuning_task(args):
    """The `python -m keras_ae.recipes.tune --model tree_latent` task: a `TreeLatentHyperModel` searching the size of
    z and the number of nonterminals, scored by sentence-level F1 against the validation split's gold trees (default
    data: the synthetic treebank), each model with the data's default right-edge prior."""
    from keras_ae.tuning import TreeLatentHyperModel, TuningTask

    defaults = build_parser().parse_args([])
    data = load_tree_data(args.data or defaults.data, max_length=defaults.max_length,
                          synthetic_size=min(args.limit or defaults.synthetic_size, defaults.synthetic_size))
    if data.validation_trees is None:
        raise ValueError(f"{data.name} has no gold trees to tune against: give --data with gold trees (a treebank).")
    vocabulary = build_vocabulary(data.train, size=defaults.vocabulary_size)
    batch_size = defaults.batch_size if args.batch_size is None else args.batch_size  # None: not given
    hypermodel = TreeLatentHyperModel(
        vocabulary, (data.validation, data.validation_trees), min_dim=max(args.min_dim, 1),
        max_dim=args.max_dim, learning_rate=args.learning_rate,
        right_edge_prior=default_right_edge_prior(args.data or defaults.data),
    )
    return TuningTask(
        hypermodel,
        make_sentence_dataset(data.train, batch_size, shuffle=True, seed=args.seed),
        make_sentence_dataset(data.validation, batch_size),
        "tree_latent",
    )


class EpochParses(keras.callbacks.Callback):
    """A diagnostic of training length, never used to select: after every epoch, the sentence F1 of both decodings
    of the current weights on the gold test trees, the share (percent) of test sentences whose first split comes
    after the gold tree's (`tree_shape`'s `top_split`, first decoding: the late-split mode docs/results/tree_latent.md
    describes), the test perplexity (from the ELBO, as the final table's) and the validation loss. The ELBO draws z; the
    noise stream is put back afterwards, so training continues exactly as it would without this callback. `scorer`: a
    `keras_ae.evaluation.trees.TreeScorer` of the model being trained. `rows`: one dict per epoch."""

    def __init__(self, scorer, sentences, gold_trees):
        super().__init__()
        self.scorer, self.sentences, self.gold_trees, self.rows = scorer, sentences, gold_trees, []

    def on_epoch_end(self, epoch, logs=None):
        generator = getattr(self.model.bottleneck, "seed_generator", None)
        state = None if generator is None else generator.state.numpy()
        decodings = self.model.grammar.decodings
        row, trees = self.scorer.evaluate(self.sentences, self.gold_trees, decoding=decodings[0])
        f1 = {decodings[0]: row["sentence_f1"]}
        for decoding in decodings[1:]:
            f1[decoding] = parsing_f1(self.scorer.parse(self.sentences, decoding), self.gold_trees)["sentence_f1"]
        if state is not None:
            generator.state.assign(state)
        self.rows.append({
            "epoch": epoch + 1, **{f"sentence_f1_{decoding}": round(value, 2) for decoding, value in f1.items()},
            "top_split_later": round(tree_shape(trees, self.gold_trees)["top_split"]["later"], 1),
            "test_perplexity": round(row["perplexity"], 2), "kl": round(row["kl"], 3),
            "val_loss": round(float((logs or {}).get("val_loss", float("nan"))), 4),
        })
        print("diagnostic " + ", ".join(f"{key} {value}" for key, value in self.rows[-1].items()), flush=True)


def _comparison_table(compared):
    """Sentence F1 with its standard error, the paired difference to right-branching trees, how transitive clauses are
    grouped (percent), and the recall (percent) of the most frequent gold constituent types, one row per parser."""
    labels = list(next(iter(compared.values()))["recall_by_label"])[:LABELS]
    rows = {}
    for name, row in compared.items():
        recall = row["recall_by_label"]
        rows[name] = {
            "sentence F1": f"{row['sentence_f1']:.1f} +- {row['sentence_f1_se']:.1f}",
            "minus right-branching": f"{row['minus_right']:+.1f} +- {row['minus_right_se']:.1f}",
            "(verb object)": f"{row['clause_groupings']['verb_object']:.1f}",
            "(subject verb)": f"{row['clause_groupings']['subject_verb']:.1f}",
            **{f"{label} ({recall[label]['count']})": f"{recall[label]['recall']:.1f}" for label in labels},
        }
    return format_table(rows, list(next(iter(rows.values()))))


def _length_range(sentences):
    lengths = [len(sentence.split()) for sentence in sentences]
    return f"{min(lengths)}..{max(lengths)}"


def _tree_figure(data, trees, path, count=4):
    chosen = sorted(range(len(data.test)), key=lambda i: -len(data.test[i].split()))[:count]
    names = list(trees)
    rows, titles = [], []
    for i in chosen:
        row = [data.test_trees[i]] if data.test_trees is not None else []
        rows.append(row + [trees[name][i] for name in names])
        titles.append((["gold"] if data.test_trees is not None else []) + names)
    plots.tree_grid(rows, path, titles=titles)


if __name__ == "__main__":
    main()
