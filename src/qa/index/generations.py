"""Generations of an index folder: the build lock, the atomic switch, and the cleanup.

    index/
      CURRENT               name of the live generation, replaced atomically
      .lock                 held while a build runs; names the builder's pid
      gen-<time>-<pid>/     one generation's files (`qa.index.generation`)

A build writes a new generation in a hidden staging folder, flushes its files to disk,
renames it to `gen-*`, then points CURRENT at it with one atomic rename, so a reader sees the
old generation or the new one, never half of one. A build killed on the way leaves the
staging folder or an unused `gen-*` folder behind; the next build removes them, and every
other generation that is not live (`remove_leftovers`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from qa.index.manifest import IndexUnusable

_POINTER = "CURRENT"
_NEARLY_FULL = 1_000_000  # free bytes below which a failed write is taken for a full disk


class IndexNotWritable(RuntimeError):
    """A build cannot write the index folder (no space left, read-only); the live
    generation is unchanged and still answers."""


def current_generation(index_dir: Path) -> Path | None:
    """The live generation's folder, or None when no index was built here.

    Raises:
        IndexUnusable: `index_dir` is a file, not a folder.
    """
    try:
        name = (index_dir / _POINTER).read_text().strip()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise IndexUnusable(
            f"{index_dir} is a file, not an index folder: name a folder with --index (or QA_INDEX)"
        ) from None
    return index_dir / name


class LiveGeneration:
    """The live generation of one index folder, for a reader that asks before every question.

    CURRENT is read again only when the file changed: a build replaces it by a rename, so
    its inode and modification time change. Otherwise asking costs one `stat`.
    """

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._known: tuple[tuple[int, int, int], Path | None] | None = None  # (file, live)

    def __call__(self) -> Path | None:
        """The live generation's folder, or None when no index was built here."""
        try:
            stat = os.stat(self.index_dir / _POINTER)
        except FileNotFoundError:
            return None
        seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        known = self._known
        if known is None or known[0] != seen:
            known = self._known = (seen, current_generation(self.index_dir))
        return known[1]


def publish(index_dir: Path, write: Callable[[Path], None], needed: int = 0) -> Path:
    """Write a new generation with `write(folder)` and make it the live one.

    Every file and folder of the generation is flushed to disk (fsync) before CURRENT
    switches to it, so a power loss cannot leave a live generation with empty files. The
    caller holds `build_lock(index_dir)`. Older generations but the one live until now are
    removed (a reader may still be loading that one; the next build removes it).

    Args:
        index_dir: the index folder.
        write: writes the generation's files into the folder it is given.
        needed: about how many bytes the generation takes, for the message of a full disk.

    Returns:
        The new generation's folder.

    Raises:
        IndexNotWritable: the disk is full, or the folder cannot be written; what was
            written is removed at once and the previous generation stays live.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    previous = current_generation(index_dir)
    # Names sort in build order (to the microsecond), which `remove_leftovers` relies on.
    name = f"gen-{datetime.now().strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
    staging = index_dir / f".{name}.tmp"
    pointer = index_dir / f".{_POINTER}.tmp"
    switched = False
    try:
        staging.mkdir()
        write(staging)
        _fsync_tree(staging)
        os.rename(staging, index_dir / name)
        fsync_dir(index_dir)
        with pointer.open("w") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pointer, index_dir / _POINTER)  # the switch: atomic on POSIX
        switched = True
        fsync_dir(index_dir)
    except BaseException as error:  # nothing half-written stays behind, whatever failed
        if switched:
            raise
        # faiss reports a failed write as a RuntimeError
        writing = isinstance(error, (OSError, RuntimeError))
        full = writing and _disk_full(index_dir, error)
        for path in (staging, index_dir / name, pointer):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink(missing_ok=True)
        if not writing:
            raise
        raise _not_writable(index_dir, error, full, needed, previous) from None
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
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(index_dir / ".lock", "a+")  # noqa: SIM115 - closed below
    except OSError as error:
        reason = error.strerror or str(error)
        raise IndexNotWritable(
            f"cannot write to {index_dir}/ ({reason}): a build needs a folder it can write; "
            "the index there still answers questions"
            if current_generation(index_dir)
            else f"cannot write to {index_dir}/ ({reason}): name another folder with --index"
        ) from None
    with handle:
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
    """Remove every generation that is not live, and what killed builds left.

    The caller holds `build_lock(index_dir)`, so no other build is writing a generation.
    A reader that was loading a removed generation reads the live one instead
    (`qa.index.generation.read_index`).

    Returns:
        The names of what killed builds left: staging folders, generations never made live,
        and generations older than the one before the live one (a build killed after its
        switch left them). The generation before the live one, which every build keeps for
        readers, is removed without being named.
    """
    if not index_dir.is_dir():
        return []
    live = current_generation(index_dir)
    generations = sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-"))
    older = [name for name in generations if live is not None and name < live.name]
    kept_for_readers = older[-1] if older else None
    removed = []
    for path in sorted(index_dir.iterdir()):
        stale = path.name.startswith("gen-") and (live is None or path.name != live.name)
        if path.name.endswith(".tmp") or stale:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            if path.name != kept_for_readers:
                removed.append(path.name)
    return removed


def fsync_dir(path: Path) -> None:
    """Make a folder's entries durable (after its files were written and fsynced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Flush every file under `folder`, then each folder, to disk."""
    for parent, _, files in os.walk(folder, topdown=False):
        for name in files:
            fd = os.open(Path(parent) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(parent))


def _disk_full(index_dir: Path, error: BaseException) -> bool:
    """Whether a failed write ran out of space (faiss does not say why a write failed)."""
    if isinstance(error, OSError) and error.errno is not None:
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    try:
        return shutil.disk_usage(index_dir).free < _NEARLY_FULL
    except OSError:
        return False


def _not_writable(
    index_dir: Path, error: BaseException, full: bool, needed: int, previous: Path | None
) -> IndexNotWritable:
    """The one-line message for a build that could not write its generation."""
    kept = "the previous index is unchanged" if previous else "no index was written"
    if full:
        megabytes = max(1, -(-needed // 1_000_000))
        return IndexNotWritable(
            f"no space left on {index_dir}/ (needed about {megabytes} MB); {kept}: "
            "free some space and run `qa index` again"
        )
    if isinstance(error, OSError) and error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return IndexNotWritable(f"cannot write to {index_dir}/ ({error.strerror}); {kept}")
    reason = (str(error).splitlines() or [type(error).__name__])[0]
    return IndexNotWritable(f"cannot write the index in {index_dir}/ ({reason}); {kept}")


def _remove_stale(index_dir: Path, keep: set[str]) -> None:
    """Older generations and leftovers of killed builds."""
    for path in index_dir.iterdir():
        stale = path.name.startswith("gen-") or path.name.endswith(".tmp")
        if stale and path.name not in keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
