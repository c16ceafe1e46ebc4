"""One way to cache a built data set: a folder under `keras_ae_home()`, built once under a lock, checked on every
read, rebuilt atomically when damaged.

Every corpus keras_ae builds (eSpeak and Festival/Flite speech, the novels, Debian's package descriptions) goes
through `cached_folder`, so all of them get the same guarantees: one process builds while the others wait
(`hold_lock`), a kill mid-build leaves only a marked staging folder that the next call removes, and a cache that
`read` finds missing, truncated or altered (it raises `DamagedCache`) is rebuilt and swapped in whole.

Example:
    def build(staging):
        (staging / "words.txt").write_text("a b c")

    def read(folder):
        try:
            return (folder / "words.txt").read_text().split()
        except FileNotFoundError:
            raise DamagedCache("no words.txt") from None

    words = cached_folder(keras_ae_home() / "demo", "demo cache", build, read)
"""

import shutil
from pathlib import Path

from keras_ae.core.files import hold_lock, make_staging, remove_stale, swap_in


class DamagedCache(Exception):
    """A cached data set that is missing, incomplete or altered (it is rebuilt)."""


def cached_folder(folder, what, build, read, markers=()):
    """`read(folder)`, after `build(staging)` has filled a new folder and it was swapped in, when `read` raises
    `DamagedCache` (a missing folder included).

    Args:
        folder: the cache folder.
        what: its name in messages ("speech corpus cache").
        build: `build(staging)` writes the whole cache into the empty folder `staging`.
        read: `read(folder)` returns the cached value or raises `DamagedCache` naming what is wrong.
        markers: file names that identify a staging leftover of `build` (besides the staging marker).
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with hold_lock(folder, what, wait=True):  # one process builds, the others wait and then read
        remove_stale(folder, list(markers))  # a killed build's staging folder
        try:
            return read(folder)
        except DamagedCache as damage:
            if folder.exists():
                print(f"The cached {what} {folder} is damaged ({damage}); rebuilding it.")
        staging = make_staging(folder)
        try:
            build(staging)
            swap_in(staging, folder)  # replaces a damaged cache atomically
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return read(folder)
