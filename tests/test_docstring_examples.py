"""The `Example:` blocks of keras_ae's docstrings are checked: every one compiles, and every one that stands on
its own (each name it reads is defined by the example, its module, or `keras` / `tf` / `np` and the public layers
and models) runs without error. Examples that train (`.fit(`) are left to the model tests, which run the same
calls on small data; the others are fragments of a larger flow (they read `model`, `images`, ...) and compile only.
"""

import ast
import builtins
import importlib
import inspect
import pkgutil
import re
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
import keras_ae.layers
import keras_ae.models

# Examples that list alternative calls on the user's own files or elide arguments with `...`: compiled only.
ILLUSTRATIONS = {"keras_ae.data.trees", "keras_ae.distribute"}
_EXAMPLE = re.compile(r"^( *)Examples?:\n((?:\1 +.*\n|[ \t]*\n)+)", re.M)


def _documented(module):
    """`(qualified name, object)` of the module and of the classes, functions and methods it defines."""
    yield module.__name__, module
    for name, value in vars(module).items():
        if getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value):
            yield f"{module.__name__}.{name}", value
        elif inspect.isclass(value):
            yield f"{module.__name__}.{name}", value
            for method_name, method in vars(value).items():
                if inspect.isfunction(method):
                    yield f"{module.__name__}.{name}.{method_name}", method


def _examples():
    found = []
    for info in pkgutil.walk_packages(keras_ae.__path__, "keras_ae."):
        if info.name.startswith("keras_ae.recipes.") or info.name.endswith("__main__"):
            continue  # recipes document their command lines, not Python
        module = importlib.import_module(info.name)
        for name, value in _documented(module):
            doc = value.__doc__ if inspect.ismodule(value) else inspect.getdoc(value)
            match = _EXAMPLE.search((doc or "") + "\n")
            if match:
                found.append(pytest.param(module, textwrap.dedent(match.group(2)), id=name))
    return found


def _free_names(code):
    """Names the code reads that it never binds."""
    tree = ast.parse(code)
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else read).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return read - bound


def _namespace(module):
    namespace = {"keras": keras, "tf": tf, "np": np}
    for package in (keras_ae.layers, keras_ae.models):
        namespace.update({name: getattr(package, name) for name in package.__all__})
    namespace.update({name: value for name, value in vars(module).items() if not name.startswith("__")})
    return namespace


def _runs(module, code):
    missing = _free_names(code) - set(_namespace(module)) - set(dir(builtins))
    return not missing and ".fit(" not in code and module.__name__ not in ILLUSTRATIONS


EXAMPLES = _examples()


def test_the_library_documents_examples_and_many_run():
    assert len(EXAMPLES) >= 50
    assert sum(_runs(*example.values) for example in EXAMPLES) >= 18


@pytest.mark.parametrize("module, code", EXAMPLES)
def test_example_compiles_and_runs_when_self_contained(module, code, tmp_path, monkeypatch):
    compiled = compile(code, module.__name__, "exec")
    if not _runs(module, code):
        return  # a fragment (reads `model`, `images`, ...), a training run, or an illustration: compiled above
    monkeypatch.chdir(tmp_path)  # an example that writes files writes them here
    exec(compiled, _namespace(module))
