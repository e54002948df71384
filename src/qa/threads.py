"""Threads for answering one question at a time on a few shared cores.

A question's work after the model is small array operations. A second thread for them only
adds a wait for a core, and on a busy 2-core machine that wait is long: BLAS and OpenMP
threads that spin while idle take the core the answer needs. Measured on this project's
shared 2-core machine (BENCHMARKS.md, "Speed and scale"): encoding a question took 120 ms
at p50 with spinning OpenMP threads and 22-28 ms without; the rest of `Engine.answer` took
8 ms with two BLAS threads and 4 ms with one.

`settle` is for a command's entry point (both settings, for the whole process);
`one_blas_thread` is what `Engine.answer` runs under in any process, restoring the
setting after.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache


def settle() -> None:
    """Let idle OpenMP threads sleep and keep numpy's BLAS on one thread.

    For a command's entry point, called before torch or faiss load: the OpenMP setting is
    read when they load. Library code never calls it. `OMP_WAIT_POLICY` set by the user
    wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError as error:  # pragma: no cover - a broken install
        raise ImportError("qa needs threadpoolctl: pip install threadpoolctl") from error
    threadpool_limits(1, user_api="blas")


_lock = threading.Lock()
_inside = 0  # blocks running under `one_blas_thread`, in all threads
_limiter = None  # what restores the BLAS threads when the last of them ends


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with BLAS (numpy's, faiss's) on one thread, then restore the setting.

    For library code answering a question: its matrix products are small, and in a process
    where `settle` was not called, a second BLAS thread only waits for a core (BENCHMARKS.md,
    "Threads"). The BLAS thread count is the process's, not the thread's, so blocks running
    at once in several threads share one limit: the first sets it, the last restores it.
    Costs about 30 microseconds; does nothing to torch's threads.
    """
    global _inside, _limiter
    with _lock:
        if _inside == 0:
            _limiter = _controller().limit(limits=1, user_api="blas")
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _limiter is not None:
                _limiter.restore_original_limits()
                _limiter = None


@lru_cache(maxsize=1)
def _controller():
    """The thread pools of the libraries loaded now (found once: the search takes ~1 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()
