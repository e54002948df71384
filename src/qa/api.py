"""Answering on a Ray cluster: `qa api`, N `Engine` replicas behind one HTTP endpoint.

POST a JSON object `{"question": "...", "k": 5}` to `/ask`; the reply is the JSON of the
web app's `/ask` and of `qa ask --json` (`Answer.to_dict()`). A bad request gets status 400
and `{"error": "..."}`, an unusable index 503. Ray Serve spreads the requests over the
replicas; each replica is an `Engine` and follows `index/CURRENT` as one does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa.cluster import connected, quiet
from qa.engine import Engine
from qa.index.manifest import IndexUnusable

ROUTE = "/ask"
_USAGE = (
    'POST a JSON object {"question": "...", "k": 5} to /ask (optional: "date_from", "date_to", '
    '"sources", "history")'
)
_DATES = ("date_from", "date_to")  # strings, as `Engine.answer` takes them
_LISTS = ("sources", "history")  # lists of strings


@contextlib.contextmanager
def running_api(
    corpus: str | Path,
    index: str | Path,
    *,
    replicas: int = 1,
    host: str = "127.0.0.1",
    port: int = 8000,
    address: str | None = None,
) -> Iterator[str]:
    """Serve the index with `replicas` engines for the duration of the block.

    Args:
        corpus, index: the folders; every node of the cluster must see them at the same
            paths (shared storage), as the replicas read the index there.
        replicas: how many `Engine` replicas answer.
        host, port: where the one HTTP endpoint listens (this machine only by default).
        address: the Ray cluster to run on; None or "" starts a local Ray for the block.
            When this process is already connected to Ray, that connection is used.

    Yields:
        The endpoint's URL (`http://HOST:PORT/ask`).

    Raises:
        ImportError: Ray is not installed; the message says what to install.
        ValueError: `replicas` is below 1.
    """
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
        raise ValueError(f"replicas must be a whole number of at least 1, got {replicas!r}")
    with connected(address):
        from ray import serve

        deployment = serve.deployment(
            _Replica,
            name="qa",
            num_replicas=replicas,
            ray_actor_options={"num_cpus": 1},  # one question at a time per core
        )
        app = deployment.bind(str(Path(corpus).resolve()), str(Path(index).resolve()))
        with quiet("ray.serve"):
            serve.start(
                proxy_location="HeadOnly",  # one endpoint, on the node that started it
                http_options={"host": host, "port": port},
                logging_config={"log_level": "WARNING"},
            )
            serve.run(app, name="qa", route_prefix=ROUTE)
        try:
            yield f"http://{host}:{port}{ROUTE}"
        finally:
            with quiet("ray.serve"):
                serve.shutdown()


class _Replica:
    """One replica: an `Engine` over the shared index, answering one request at a time."""

    def __init__(self, corpus: str, index: str) -> None:
        import torch

        from qa.threads import settle

        settle()
        torch.set_num_threads(1)  # the replica holds one CPU
        self.engine = Engine(corpus, index, build_if_missing=False)

    async def __call__(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        if request.method != "POST":
            return JSONResponse({"error": _USAGE}, status_code=405)
        try:
            question, k, options = parse_request(await _json(request))
            answer = await asyncio.to_thread(self.engine.answer, question, k, **options)
        except IndexUnusable as error:
            return JSONResponse({"error": str(error)}, status_code=503)
        except ValueError as error:  # bad JSON, an empty question, a bad k
            return JSONResponse({"error": str(error).splitlines()[0]}, status_code=400)
        return JSONResponse(answer.to_dict())


async def _json(request: Any) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise ValueError(f"the body is not JSON: {_USAGE}") from None


def parse_request(body: Any) -> tuple[str, int, dict[str, Any]]:
    """The question, `k` and the other arguments of `Engine.answer` in a request's JSON body.

    Raises:
        ValueError: the body is not `{"question": str, "k": int}` (`k` may be left out), or
            "date_from"/"date_to" is not a string, or "sources"/"history" not a list of
            strings.
    """
    if not isinstance(body, dict) or not isinstance(body.get("question"), str):
        raise ValueError(f"no question: {_USAGE}")
    k = body.get("k", 5)
    if isinstance(k, bool) or not isinstance(k, int):
        raise ValueError(f"k must be a whole number of at least 1, got {k!r}")
    options: dict[str, Any] = {}
    for name in _DATES + _LISTS:
        value = body.get(name)
        if value is None:
            continue
        if name in _DATES and not isinstance(value, str):
            raise ValueError(f'{name} must be a date such as "2024-11", got {value!r}')
        if name in _LISTS and not (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            raise ValueError(f"{name} must be a list of strings, got {value!r}")
        options[name] = value
    return body["question"], k, options
