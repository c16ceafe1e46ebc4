"""VQ-VAE: `python -m keras_ae.recipes.vqvae [--data mnist|speech|PATH] [--codebook-size 512] ...`.

On images (MNIST by default, or the image sources of `keras_ae.data.images`, e.g. a folder or `.npz`): a 7x7 grid
of codes per 28x28 image; reports on the test split the share of the codebook used, the perplexity and the
reconstruction error beside a continuous `AutoEncoder` with the same latent size (one float per code position)
and budget. Writes the run folder (reconstructions, code-usage histogram, code maps) and exports `encode`,
`quantize` and `decode_codes`.

`--no-ema`, `--no-restart` and `--no-kmeans-init` switch off the codebook's EMA updates, dead-code restarts and
k-means initialisation, to measure what each does.
"""

import math

from keras_ae.layers.vector_quantizer import check_codebook_fits
from keras_ae.models.vqvae import VQVAE
from keras_ae.recipes.common import recipe_parser
from keras_ae.recipes.discrete import run_code_recipe


def build_parser():
    parser = recipe_parser("vqvae", __doc__.splitlines()[0], defaults={"data": "mnist", "epochs": 3})
    parser.add_argument("--codebook-size", type=int, default=512, help="number of codes K")
    parser.add_argument("--code-dim", type=int, default=32, help="size of each code vector")
    parser.add_argument("--beta", type=float, default=0.25, help="commitment weight")
    parser.add_argument("--no-ema", dest="ema", action="store_false", help="learn the codebook by its loss, not EMA")
    parser.add_argument("--no-restart", dest="restart", action="store_false", help="never restart dead codes")
    parser.add_argument("--no-kmeans-init", dest="kmeans_init", action="store_false", help="random codebook start")
    parser.add_argument("--dead-code-threshold", type=float, default=0.03, help="share of mean usage = dead")
    parser.add_argument("--no-compare", dest="compare", action="store_false",
                        help="skip training the continuous AutoEncoder of the same latent size")
    return parser


def build_model(args, image_shape):
    return VQVAE(
        data_shape=image_shape,
        num_codes=args.codebook_size,
        code_dim=args.code_dim,
        beta=args.beta,
        ema=args.ema,
        kmeans_init=args.kmeans_init,
        restart_dead_codes=args.restart,
        dead_code_threshold=args.dead_code_threshold,
        seed=args.seed,
    )


def check_data_size(args, splits):
    """Every training image gives (height / 4) x (width / 4) encoder outputs; a larger codebook cannot be filled."""
    height, width = splits.image_shape[:2]
    positions = math.ceil(math.ceil(height / 2) / 2) * math.ceil(math.ceil(width / 2) / 2)
    num_train = len(splits.train.images)
    check_codebook_fits(
        args.codebook_size, num_train * positions, what=f"{num_train} training images ({positions} codes each)"
    )


def main(argv=None):
    return run_code_recipe(build_parser(), build_model, check_data_size, argv)


if __name__ == "__main__":
    main()
