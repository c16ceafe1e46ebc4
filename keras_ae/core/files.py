"""Files keras_ae writes without ever destroying the user's: atomic writes, ownership markers, locks, and atomic
replacement of folders.

- `atomic_write_text(path, text)`: written to a temporary name beside `path`, flushed to disk, renamed into place,
  so a reader (or a process killed mid-write) sees the old file or the new one.
- A folder keras_ae made carries a marker file (a run folder's `keras_ae_run.json`, an export's `keras_ae.json`,
  a staging folder's `.keras_ae-staging`). `check_replaceable` refuses, before any work, a destination keras_ae
  may not replace: a file, a non-empty folder without the marker, the current folder or one of its parents, the
  home folder.
- `hold_lock(path)`: an exclusive `fcntl` lock of `path` for this process (re-entrant; released at exit, also on
  kill -9), kept under `$KERAS_AE_HOME/locks` so nothing is created beside the user's files. A second process gets
  `LockedError` ("... is in use by PID 1234") at once.
- `swap_in(staging, destination)`: puts a finished folder in place atomically (Linux `renameat2(RENAME_EXCHANGE)`):
  a reader polling `destination` sees the old folder or the new one, never neither and never a half-written one.
- `remove_stale(destination)`: removes `<name>.tmp-*` / `<name>.old-*` leftovers of a killed process, after
  checking that they carry a keras_ae marker.

Example:
    check_replaceable(export_dir, marker="keras_ae.json", flag="--export-dir")
    with hold_lock(export_dir, "export"):
        staging = make_staging(export_dir)
        ...  # write into staging
        swap_in(staging, export_dir)
"""

import ctypes
import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

RUN_MARKER = "keras_ae_run.json"  # in every run folder keras_ae made
EXPORT_MARKER = "keras_ae.json"  # the manifest of every export
STAGING_MARKER = ".keras_ae-staging"  # in a folder being written
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class UnsafePathError(ValueError):
    """A destination keras_ae will not replace or write; the message names the path and the fix."""


class LockedError(RuntimeError):
    """A run folder, export or data cache that another process is using."""


def absolute(path):
    """`path` with `~` expanded, made absolute and with symlinks resolved."""
    return Path(os.path.expanduser(str(path))).resolve()


# --------------------------------------------------------------------------------------------------------------
# Atomic writes


def _fsync_directory(folder):
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_write_bytes(path, data):
    """Writes `data` to `path` through a temporary file in the same folder, fsynced and renamed into place."""
    path = Path(path)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def atomic_write_text(path, text):
    """`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def commit_file(staging, path):
    """Flushes a finished file `staging` to disk and renames it to `path` (same folder), atomically."""
    descriptor = os.open(staging, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(staging, path)
    _fsync_directory(Path(path).parent)


# --------------------------------------------------------------------------------------------------------------
# What keras_ae may replace


def check_replaceable(path, marker, flag, what="folder", fix=None):
    """Raises `UnsafePathError` unless keras_ae may create or replace the folder `path`.

    Allowed: a path that does not exist, an empty folder, or a folder holding `marker` (keras_ae made it).
    Refused: a file, the current folder or one of its parents, the home folder, a non-empty folder without the
    marker (the message says when it holds keras_ae folders, i.e. is a parent of runs or exports). `fix` replaces
    the suggestion for a foreign folder.
    """
    path = absolute(path)
    cwd = Path.cwd().resolve()
    if path == cwd or path in cwd.parents or path == absolute("~"):
        where = "your home folder" if path == absolute("~") else "the current folder or one of its parents"
        raise UnsafePathError(
            f"{flag} {path} is {where}: keras_ae replaces the {what} when the run finishes, which would delete "
            f"everything in it. Give a new folder inside it instead, e.g. {flag} {path / 'NAME'}."
        )
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise UnsafePathError(
            f"{flag} {path} is a file (or a link), not a {what}; keras_ae will not replace it. Give the path of a "
            "new folder, or move the file away yourself."
        )
    if not path.is_dir() or (path / marker).is_file():
        return path
    entries = sorted(p.name for p in path.iterdir())
    if not entries:
        return path
    ours = [name for name in entries if _is_keras_ae_folder(path / name)]
    if ours:
        listed = ", ".join(ours[:3]) + (f" and {len(ours) - 3} more" if len(ours) > 3 else "")
        raise UnsafePathError(
            f"{flag} {path} holds other keras_ae folders ({listed}): it is a parent of runs or exports, not a "
            f"{what} of its own, and replacing it would delete them all. Give a folder inside it, e.g. "
            f"{flag} {path / 'NAME'}."
        )
    listed = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
    fix = fix or f"Give a new or empty folder, e.g. {flag} {path / 'NAME'}, or move its contents away yourself."
    raise UnsafePathError(
        f"{flag} {path} is a folder keras_ae did not create (it holds {listed} and no {marker}); keras_ae never "
        f"replaces it. {fix}"
    )


def _is_keras_ae_folder(path):
    return path.is_dir() and any((path / name).is_file() for name in (RUN_MARKER, EXPORT_MARKER))


def check_writable(path, flag):
    """Raises `UnsafePathError` unless the folder `path` could be created (or written) by this process."""
    path = absolute(path)
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UnsafePathError(f"{flag} {path}: {existing} is a file, so no folder can be made under it. Give a "
                              "path whose parents are folders.")
    try:
        handle, probe = tempfile.mkstemp(prefix=".keras_ae-write-test-", dir=existing)
    except OSError as error:
        raise UnsafePathError(
            f"{flag} {path}: cannot write in {existing} ({error.strerror}). Give a folder you can write to, or fix "
            "its permissions, before training starts."
        ) from None
    os.close(handle)
    os.unlink(probe)
    return path


def check_not_nested(first, second, first_flag, second_flag):
    """Raises `UnsafePathError` when two destinations are the same folder or one lies inside the other."""
    first, second = absolute(first), absolute(second)
    if first == second or first in second.parents or second in first.parents:
        relation = "the same folder as" if first == second else "nested with"
        raise UnsafePathError(
            f"{first_flag} {first} is {relation} {second_flag} {second}: replacing one would replace or delete the "
            f"other. Give two separate folders, e.g. {first_flag} runs/NAME {second_flag} saved_models/NAME."
        )


# --------------------------------------------------------------------------------------------------------------
# Locks


_HELD = {}  # lock file -> [file object, count]: this process's locks (re-entrant)


def _lock_file(path):
    from keras_ae.data import keras_ae_home

    key = str(absolute(path))
    folder = keras_ae_home() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() else "_" for c in Path(key).name)[:40]
    return folder / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.lock"


def acquire_lock(path, what="folder", wait=False):
    """Locks `path` for this process (re-entrant). When another process holds it: raises `LockedError` naming its
    PID, or with `wait=True` says so and waits (for data caches, which the other process is building)."""
    lock = _lock_file(path)
    if lock in _HELD:
        _HELD[lock][1] += 1
        return lock
    file = open(lock, "a+")
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno not in (errno.EAGAIN, errno.EACCES):
            file.close()
            raise
        file.seek(0)
        holder = file.read().strip() or "unknown"
        if wait:
            print(f"The {what} {absolute(path)} is in use by PID {holder}; waiting for it to finish.", flush=True)
            fcntl.flock(file, fcntl.LOCK_EX)
        else:
            file.close()
            raise LockedError(
                f"The {what} {absolute(path)} is in use by PID {holder} (another keras_ae process). Wait for it to "
                f"finish, or stop it (kill {holder}), or give another path."
            ) from None
    file.seek(0)
    file.truncate()
    file.write(str(os.getpid()))
    file.flush()
    _HELD[lock] = [file, 1]
    return lock


def release_lock(path):
    """Releases one hold of `acquire_lock(path)`."""
    lock = _lock_file(path)
    held = _HELD.get(lock)
    if held is None:
        return
    held[1] -= 1
    if held[1] == 0:
        del _HELD[lock]
        fcntl.flock(held[0], fcntl.LOCK_UN)
        held[0].close()


@contextmanager
def hold_lock(path, what="folder", wait=False):
    """`acquire_lock` / `release_lock` as a context manager."""
    acquire_lock(path, what, wait=wait)
    try:
        yield
    finally:
        release_lock(path)


# --------------------------------------------------------------------------------------------------------------
# Folders replaced atomically


def make_staging(destination, kind="tmp"):
    """A new marked folder `<destination>.<kind>-XXXX` beside `destination`, to write into and then `swap_in`."""
    destination = absolute(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{destination.name}.{kind}-", dir=destination.parent))
    (staging / STAGING_MARKER).write_text(str(os.getpid()))
    return staging


def _exchange(first, second):
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    result = libc.renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result != 0:
        code = ctypes.get_errno()
        if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # a filesystem without RENAME_EXCHANGE
            return False
        raise OSError(code, os.strerror(code), str(second))
    return True


def swap_in(staging, destination, grace=0.0):
    """Moves the finished folder `staging` to `destination` (replacing it, if it exists) atomically, then removes
    the previous folder, `grace` seconds later (a reader that opened it just before the swap finishes first).
    `destination` must have passed `check_replaceable`."""
    staging, destination = Path(staging), absolute(destination)
    (staging / STAGING_MARKER).unlink(missing_ok=True)
    if not destination.exists():
        os.replace(staging, destination)
    elif _exchange(staging, destination):
        time.sleep(grace)
        (staging / STAGING_MARKER).write_text(str(os.getpid()))  # the old folder, now at the staging name
        remove_tree(staging)
    else:  # no atomic exchange on this filesystem: two renames, the old folder kept aside until the new is in
        retired = Path(tempfile.mkdtemp(prefix=f"{destination.name}.old-", dir=destination.parent))
        (retired / STAGING_MARKER).write_text(str(os.getpid()))
        os.replace(destination, retired / destination.name)
        os.replace(staging, destination)
        time.sleep(grace)
        remove_tree(retired)
    _fsync_directory(destination.parent)
    return destination


def remove_stale(destination, markers):
    """Removes leftovers of killed keras_ae processes beside `destination` (`<name>.tmp-*`, `<name>.old-*`): only
    empty folders and folders holding `STAGING_MARKER` or one of `markers`. Call it while holding the lock of
    `destination`. Returns the removed paths."""
    destination = absolute(destination)
    removed = []
    if not destination.parent.is_dir():
        return removed
    for kind in ("tmp", "old"):
        for candidate in destination.parent.glob(f"{destination.name}.{kind}-*"):
            if candidate.is_symlink() or not candidate.is_dir():
                continue
            names = {p.name for p in candidate.iterdir()}
            if not names or names & {STAGING_MARKER, *markers}:
                remove_tree(candidate, markers)
                removed.append(candidate)
    return removed


def remove_tree(path, markers=()):
    """Deletes a keras_ae folder, its markers last, so a kill midway leaves a folder still recognisable as ours."""
    path = Path(path)
    keep = {STAGING_MARKER, RUN_MARKER, EXPORT_MARKER, *markers}
    for child in path.iterdir():
        if child.name in keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    for child in path.iterdir():
        child.unlink()
    path.rmdir()
