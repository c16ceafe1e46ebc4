"""Debian's package descriptions: about 60k short documents written by people, each with a one-line synopsis.

Every Debian package has a synopsis (a headline of typically 3 to 10 words) and a long description (one or more
paragraphs). apt keeps the English texts in `/var/lib/apt/lists/*_i18n_Translation-en*` and each package's source
package and section in the `*_Packages` lists (see ../shared/DATA.md, "Document-summary pairs"). keras_ae reads
them offline, keeps one record per distinct description, and splits by *source* package, so that the near-copies
of one source (`-dev`, `-doc`, `-dbg`, `-data` variants) never straddle training and test.

They serve as document-summary pairs (text as the latent) and as technical prose labelled by topic (the section)
for sentence probes.

Example:
    records = package_descriptions()
    splits = split_by_source(records)
    print(len(splits["train"]), splits["test"][0].synopsis)
"""

import dataclasses
import glob
import gzip
import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np

from keras_ae.data import keras_ae_home
from keras_ae.data.cache import DamagedCache, cached_folder

APT_LISTS = Path("/var/lib/apt/lists")
APT_HELPER = "/usr/lib/apt/apt-helper"
CACHE_VERSION = 1
_UPDATE_HINT = ("Fetch them with `apt-get update -o Acquire::Languages=en` (as root; `bash scripts/install.sh` "
                "does it).")


@dataclasses.dataclass(frozen=True)
class PackageDescription:
    """One package's description: `description` is plain text, paragraphs separated by a blank line."""

    package: str
    source: str
    section: str
    synopsis: str
    description: str


def package_descriptions(lists=APT_LISTS, root=None, progress=True):
    """The English descriptions of the packages in apt's lists, one record per distinct description, sorted by
    package name; read once and cached under `keras_ae_home() / "text"`.

    Args:
        lists: apt's list folder.
        root: cache folder (default `keras_ae_home() / "text"`).
        progress: print what is being read.
    """
    translations, packages = _list_files(lists)
    spec = {"version": CACHE_VERSION, "lists": [[p.name, p.stat().st_size, int(p.stat().st_mtime)]
                                                for p in translations + packages]}
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
    folder = (Path(root) if root is not None else keras_ae_home() / "text") / f"debian-descriptions-{digest}"

    def build(staging):
        records = _read_lists(translations, packages, progress)
        with gzip.open(staging / "descriptions.jsonl.gz", "wt", encoding="utf-8") as file:
            for record in records:
                file.write(json.dumps(dataclasses.asdict(record)) + "\n")
        (staging / "count.json").write_text(json.dumps({"records": len(records)}))

    return cached_folder(folder, "package-description cache", build, _read_cache)


def split_by_source(records, fractions=(0.8, 0.1, 0.1), seed=0):
    """`{"train", "validation", "test"}` lists of `records`, each source package wholly in one split.

    The source packages are shuffled with `seed` and cut by their share of the records, so the splits hold about
    `fractions` of the records.
    """
    if len(fractions) != 3 or min(fractions) < 0 or not 0.999 < sum(fractions) < 1.001:
        raise ValueError(f"fractions must be three shares of train/validation/test summing to 1; got {fractions}.")
    by_source = {}
    for record in records:
        by_source.setdefault(record.source, []).append(record)
    sources = sorted(by_source)
    np.random.default_rng(seed).shuffle(sources)
    total, taken = len(records), 0
    splits = {"train": [], "validation": [], "test": []}
    bounds = (fractions[0] * total, (fractions[0] + fractions[1]) * total)
    for source in sources:
        split = "train" if taken < bounds[0] else "validation" if taken < bounds[1] else "test"
        splits[split].extend(by_source[source])
        taken += len(by_source[source])
    return splits


def _list_files(lists):
    lists = Path(lists)
    translations = sorted(Path(p) for p in glob.glob(str(lists / "*_i18n_Translation-en*")) if _is_list(p))
    packages = sorted(Path(p) for p in glob.glob(str(lists / "*_binary-*_Packages*")) if _is_list(p))
    if not translations:
        raise FileNotFoundError(f"No English package descriptions (*_i18n_Translation-en) in {lists}. "
                                + _UPDATE_HINT)
    if not packages:
        raise FileNotFoundError(f"No package lists (*_binary-*_Packages) in {lists}. " + _UPDATE_HINT)
    return translations, packages


def _is_list(path):
    return not path.endswith((".diff", ".IndexDiff")) and Path(path).is_file()


def _stanzas(path):
    """The `{field: value}` stanzas of an apt list (any compression), continuation lines kept with their indent."""
    text = subprocess.run([APT_HELPER, "cat-file", str(path)], check=True, capture_output=True, text=True).stdout
    for block in text.split("\n\n"):
        fields, key = {}, None
        for line in block.split("\n"):
            if line.startswith((" ", "\t")) and key is not None:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields:
            yield fields


def _long_description(lines):
    """apt's long-description lines (one leading space, `.` for a blank line) as paragraphs of plain text."""
    paragraphs, current = [], []
    for line in lines:
        line = line[1:] if line.startswith(" ") else line
        if line.strip() == ".":
            if current:
                paragraphs.append(" ".join(current))
            current = []
        elif line.strip():
            current.append(line.strip())
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def _read_lists(translations, packages, progress):
    info = {}  # package name -> (source, section), from the first list that names it
    for path in packages:
        if progress:
            print(f"Reading {path.name}")
        for fields in _stanzas(path):
            name = fields.get("Package")
            if name and name not in info:
                source = fields.get("Source", name).split()[0]
                section = fields.get("Section", "unknown").split("/")[-1]
                info[name] = (source, section)
    records, seen = {}, set()
    for path in translations:
        if progress:
            print(f"Reading {path.name}")
        for fields in _stanzas(path):
            name, text = fields.get("Package"), fields.get("Description-en")
            if not name or not text or name not in info:
                continue
            synopsis, *lines = text.split("\n")
            description = _long_description(lines)
            key = (synopsis.strip().lower(), description.lower())
            if not synopsis.strip() or not description or key in seen or name in records:
                continue
            seen.add(key)
            source, section = info[name]
            records[name] = PackageDescription(name, source, section, synopsis.strip(), description)
    return [records[name] for name in sorted(records)]


def _read_cache(folder):
    try:
        expected = json.loads((folder / "count.json").read_text())["records"]
        with gzip.open(folder / "descriptions.jsonl.gz", "rt", encoding="utf-8") as file:
            records = [PackageDescription(**json.loads(line)) for line in file]
    except FileNotFoundError as error:
        raise DamagedCache(f"{Path(error.filename).name} is missing") from None
    except (OSError, EOFError, ValueError, TypeError, KeyError) as error:
        raise DamagedCache(f"it does not parse: {error}") from None
    if len(records) != expected or not records:
        raise DamagedCache(f"{len(records)} records, {expected} expected")
    return records
