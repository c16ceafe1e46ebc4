"""Deep InfoMax on images: `python -m keras_ae.recipes.infomax [--data mnist] [--epochs 5] ...`.

Trains an encoder jointly with global and local pair discriminators, then reports the linear-probe and kNN
accuracy of its embeddings beside raw pixels and a random-init encoder, writes the run folder and exports.
"""

from keras_ae.config import constructor_default
from keras_ae.core.validation import non_negative_float, non_negative_int
from keras_ae.models.infomax import InfoMax
from keras_ae.recipes.common import recipe_parser
from keras_ae.recipes.image_recipe import run_image_recipe


def build_parser():
    parser = recipe_parser("infomax", __doc__.splitlines()[0], defaults={"data": "mnist", "epochs": 5})
    default = lambda name: constructor_default(InfoMax, name)  # noqa: E731
    parser.add_argument("--objective", choices=["bce", "infonce"], default=default("objective"), help="pair objective")
    parser.add_argument(
        "--global-weight", type=non_negative_float, default=default("global_weight"), help="global objective weight"
    )
    parser.add_argument(
        "--local-weight", type=non_negative_float, default=default("local_weight"), help="local objective weight"
    )
    parser.add_argument(
        "--max-shift", type=non_negative_int, default=default("max_shift"),
        help="pair two views shifted by up to this many pixels; 0 = plain DIM",
    )
    return parser


def build_model(args, image_shape):
    return InfoMax(
        image_shape=image_shape,
        embedding_dim=args.embedding_dim,
        objective=args.objective,
        global_weight=args.global_weight,
        local_weight=args.local_weight,
        max_shift=args.max_shift,
    )


def main(argv=None):
    return run_image_recipe(build_parser(), build_model, argv)


if __name__ == "__main__":
    main()
