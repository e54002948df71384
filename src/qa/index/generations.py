"""Generations of an index folder: the build lock, the atomic switch, and the cleanup.

    index/
      CURRENT               name of the live generation, replaced atomically
      .lock                 held while a build runs; names the builder's pid
      gen-<time>-<pid>/     one generation's files (`qa.index.generation`)

A build writes a new generation in a hidden staging folder, renames it to `gen-*`, then
points CURRENT at it with one atomic rename, so a reader sees the old generation or the new
one, never half of one. A build killed on the way leaves the staging folder or an unused
`gen-*` folder behind; the next build removes them (`remove_leftovers`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

_POINTER = "CURRENT"


def current_generation(index_dir: Path) -> Path | None:
    """The live generation's folder, or None when no index was built here."""
    try:
        name = (index_dir / _POINTER).read_text().strip()
    except FileNotFoundError:
        return None
    return index_dir / name


def publish(index_dir: Path, write: Callable[[Path], None]) -> Path:
    """Write a new generation with `write(folder)` and make it the live one.

    The caller holds `build_lock(index_dir)`. Older generations but the one live until now
    are removed (a reader may still be loading that one; the next build removes it).

    Returns:
        The new generation's folder.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    previous = current_generation(index_dir)
    # Names sort in build order (to the microsecond), which `remove_leftovers` relies on.
    name = f"gen-{datetime.now().strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
    staging = index_dir / f".{name}.tmp"
    staging.mkdir()
    write(staging)
    fsync_dir(staging)
    os.rename(staging, index_dir / name)
    pointer = index_dir / f".{_POINTER}.tmp"
    pointer.write_text(name + "\n")
    os.replace(pointer, index_dir / _POINTER)  # the switch: atomic on POSIX
    fsync_dir(index_dir)
    _remove_stale(index_dir, keep={name, previous.name if previous else name})
    return index_dir / name


@contextmanager
def build_lock(index_dir: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the index's build lock; a second builder waits until the first is done.

    Args:
        index_dir: the index folder.
        on_wait: called once with a message naming the running build when this one has
            to wait for it.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                handle.seek(0)
                holder = handle.read().strip() or "?"
                on_wait(
                    f"another build (pid {holder}) is writing {index_dir}/; "
                    "waiting for it to finish"
                )
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_leftovers(index_dir: Path) -> list[str]:
    """Remove what killed builds left: staging folders and generations never made live.

    The caller holds `build_lock(index_dir)`. Generations older than the live one stay
    (a reader may still be loading one); the next written generation clears them.

    Returns:
        The names removed.
    """
    if not index_dir.is_dir():
        return []
    live = current_generation(index_dir)
    removed = []
    for path in sorted(index_dir.iterdir()):
        orphan = path.name.startswith("gen-") and (live is None or path.name > live.name)
        if path.name.endswith(".tmp") or orphan:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def fsync_dir(path: Path) -> None:
    """Make a folder's entries durable (after its files were written and fsynced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale(index_dir: Path, keep: set[str]) -> None:
    """Older generations and leftovers of killed builds."""
    for path in index_dir.iterdir():
        stale = path.name.startswith("gen-") or path.name.endswith(".tmp")
        if stale and path.name not in keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
