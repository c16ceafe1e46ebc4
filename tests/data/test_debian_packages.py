"""Tests for keras_ae.data.debian_packages and the cache it is built through (keras_ae.data.cache).

Every test writes its own small apt lists (apt-helper reads uncompressed lists too); none needs the real ones.
"""

import pytest

from keras_ae.data import debian_packages
from keras_ae.data.cache import DamagedCache, cached_folder

TRANSLATIONS = """Package: foo
Description-md5: 1
Description-en: Frobnicates widgets quickly
 Foo frobnicates widgets. It is
 fast.
 .
 This package contains the program.

Package: foo-doc
Description-md5: 2
Description-en: Frobnicates widgets quickly (documentation)
 Foo frobnicates widgets.
 .
 This package contains the manual.

Package: foo-copy
Description-md5: 3
Description-en: Frobnicates widgets quickly
 Foo frobnicates widgets. It is
 fast.
 .
 This package contains the program.

Package: bar
Description-md5: 4
Description-en: Draws bars
 Bar draws bars on a terminal.

Package: orphan
Description-md5: 5
Description-en: Not in any Packages list
 Nobody ships it.
"""

PACKAGES = """Package: foo
Section: utils
Description-md5: 1

Package: foo-doc
Source: foo (1.0-1)
Section: contrib/doc
Description-md5: 2

Package: foo-copy
Source: foo
Section: utils

Package: bar
Section: graphics
"""


@pytest.fixture
def lists(tmp_path):
    folder = tmp_path / "lists"
    folder.mkdir()
    (folder / "example_dists_main_i18n_Translation-en").write_text(TRANSLATIONS)
    (folder / "example_dists_main_binary-amd64_Packages").write_text(PACKAGES)
    return folder


def test_descriptions_are_parsed_deduplicated_and_given_their_source(lists, tmp_path):
    records = debian_packages.package_descriptions(lists, root=tmp_path / "cache", progress=False)
    by_name = {r.package: r for r in records}
    assert sorted(by_name) == ["bar", "foo", "foo-doc"]  # the copy of foo and the unlisted package are dropped
    assert by_name["foo"].description == "Foo frobnicates widgets. It is fast.\n\nThis package contains the program."
    assert by_name["foo"].synopsis == "Frobnicates widgets quickly"
    assert (by_name["foo-doc"].source, by_name["foo-doc"].section) == ("foo", "doc")
    assert (by_name["bar"].source, by_name["bar"].section) == ("bar", "graphics")


def test_split_keeps_each_source_package_in_one_split(lists, tmp_path):
    records = debian_packages.package_descriptions(lists, root=tmp_path / "cache", progress=False)
    for seed in range(6):
        splits = debian_packages.split_by_source(records, fractions=(0.5, 0.25, 0.25), seed=seed)
        assert sorted(r.package for split in splits.values() for r in split) == ["bar", "foo", "foo-doc"]
        homes = {split for split, members in splits.items() for r in members if r.source == "foo"}
        assert len(homes) == 1
    with pytest.raises(ValueError, match="summing to 1"):
        debian_packages.split_by_source(records, fractions=(0.5, 0.5, 0.5))


def test_missing_lists_name_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="Acquire::Languages=en"):
        debian_packages.package_descriptions(tmp_path, root=tmp_path / "cache", progress=False)


def test_a_damaged_cache_is_rebuilt(lists, tmp_path):
    root = tmp_path / "cache"
    first = debian_packages.package_descriptions(lists, root=root, progress=False)
    (cached,) = root.glob("debian-descriptions-*")
    data = cached / "descriptions.jsonl.gz"
    data.write_bytes(data.read_bytes()[:20])  # truncated, as by a full disk
    assert debian_packages.package_descriptions(lists, root=root, progress=False) == first
    assert [p.name for p in root.iterdir()] == [cached.name]  # no staging left behind


def test_cached_folder_builds_once_and_leaves_nothing_after_a_failed_build(tmp_path):
    builds = []

    def build(staging):
        builds.append(staging)
        (staging / "value.txt").write_text("42")

    def read(folder):
        if not (folder / "value.txt").exists():
            raise DamagedCache("no value.txt")
        return (folder / "value.txt").read_text()

    def failing(staging):
        (staging / "half.txt").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        cached_folder(tmp_path / "demo", "demo cache", failing, read)
    assert list(tmp_path.iterdir()) == []  # the half-built folder is gone, nothing is visible
    assert cached_folder(tmp_path / "demo", "demo cache", build, read) == "42"
    assert cached_folder(tmp_path / "demo", "demo cache", build, read) == "42"
    assert len(builds) == 1
