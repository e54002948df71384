"""Ray, for a build on a cluster and for `qa api`: checking it is installed, connecting.

Ray is an optional extra (`pip install -e ".[ray]"`). It is imported only inside these
functions, which run only for `--ray` builds and `qa api`, so nothing else ever loads it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from types import ModuleType

INSTALL = 'Ray is not installed: pip install -e ".[ray]" (or pip install "ray[data,serve]")'
# Ray left to itself reports usage to its makers, starts a dashboard and copies every
# worker's log lines to the terminal; a build and an answer server need none of that.
_QUIET = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_DEDUP_LOGS": "0",
    "RAY_DISABLE_IMPORT_WARNING": "1",
    "RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO": "0",
}


def require_ray(serve: bool = False) -> ModuleType:
    """The `ray` module, with Ray Data (for builds) or Ray Serve (`serve`, for `qa api`).

    Raises:
        ImportError: Ray (or the library asked for) is not installed; the message says what
            to install.
    """
    try:
        import ray

        if serve:
            import ray.serve  # noqa: F401
        else:
            import ray.data  # noqa: F401
    except ImportError as error:
        raise ImportError(INSTALL) from error
    return ray


@contextlib.contextmanager
def connected(address: str | None) -> Iterator[ModuleType]:
    """Ray, connected to the cluster at `address` for the duration of the block.

    Args:
        address: a cluster's address ("auto", "HOST:PORT", "ray://HOST:10001"); "" or None
            starts a local Ray for the block. When this process is already connected, that
            connection is used and left open.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    for name, value in _QUIET.items():
        os.environ.setdefault(name, value)  # read by Ray's processes when they start
    ray.init(
        address=address or None,
        include_dashboard=False if not address else None,
        log_to_driver=False,
        logging_level="ERROR",
    )
    try:
        yield ray
    finally:
        ray.shutdown()


@contextlib.contextmanager
def quiet(name: str) -> Iterator[None]:
    """Keep a library's info and warning lines off the terminal for the block (the build
    prints its own progress and summary); its errors still show."""
    import logging

    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
