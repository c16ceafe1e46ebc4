"""Classic convolutional auto-encoder on images: `python -m keras_ae.recipes.autoencoder [--data mnist] ...`.

The baseline of the "beyond reconstruction" comparison: same encoder as InfoMax, judged by a decoder's
reconstruction error; reports the same probe table, reconstructions and embedding map, and exports
`encode` / `decode`.
"""

from keras_ae.losses import RECONSTRUCTION_LOSSES
from keras_ae.models.autoencoder import AutoEncoder
from keras_ae.recipes.common import recipe_parser
from keras_ae.recipes.image_recipe import run_image_recipe


def build_parser():
    parser = recipe_parser("autoencoder", __doc__.splitlines()[0], defaults={"data": "mnist", "epochs": 5})
    parser.add_argument("--reconstruction-loss", choices=RECONSTRUCTION_LOSSES, default="mse", help="error measure")
    return parser


def build_model(args, image_shape):
    return AutoEncoder(
        image_shape=image_shape, embedding_dim=args.embedding_dim, reconstruction_loss=args.reconstruction_loss
    )


def main(argv=None):
    return run_image_recipe(build_parser(), build_model, argv)


if __name__ == "__main__":
    main()
