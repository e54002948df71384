"""Threads for answering one question at a time on a few shared cores.

A question's work after the model is small array operations. A second thread for them only
adds a wait for a core, and on a busy 2-core machine that wait is long: BLAS and OpenMP
threads that spin while idle take the core the answer needs. Measured on this project's
shared 2-core machine (BENCHMARKS.md, "Speed and scale"): encoding a question took 120 ms
at p50 with spinning OpenMP threads and 22-28 ms without; the rest of `Engine.answer` took
8 ms with two BLAS threads and 4 ms with one.
"""

from __future__ import annotations

import os


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
