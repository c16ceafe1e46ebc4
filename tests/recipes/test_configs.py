"""Every config in recipes/ names only options its recipe knows."""

import importlib
from pathlib import Path

import pytest

from keras_ae.recipes.common import parse_flags

CONFIGS = sorted(Path(__file__).parents[2].joinpath("recipes").glob("*.toml"))
RECIPES = {"autoencoder", "infomax", "skip_thought", "quick_thought", "cpc", "vqvae", "discrete", "tree_latent"}


def _recipe_for(config):
    names = [name for name in RECIPES if config.stem.startswith(name)]
    assert names, f"{config.name} does not start with a recipe name"
    return importlib.import_module(f"keras_ae.recipes.{max(names, key=len)}")


@pytest.mark.parametrize("config", CONFIGS, ids=[c.name for c in CONFIGS])
def test_config_parses_with_its_recipe(config):
    args = parse_flags(_recipe_for(config).build_parser(), ["--config", str(config)])
    assert args.config == str(config)


def test_there_are_configs():
    assert len(CONFIGS) >= 4
