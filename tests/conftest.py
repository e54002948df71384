"""Shared fixtures: the real model and an index of the real corpus, built once per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder():
    from qa.embed import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, embedder) -> Path:
    """An index of the real corpus; tests copy it before changing it."""
    from qa.engine import build_index

    index = tmp_path_factory.mktemp("seed") / "index"
    build_index(CORPUS, index)
    return index


@pytest.fixture(scope="session")
def engine(seed_index):
    from qa import Engine

    return Engine(CORPUS, seed_index, build_if_missing=False)


@pytest.fixture
def index_copy(seed_index, tmp_path) -> Path:
    """A private copy of the seed index that a test may damage."""
    copy = tmp_path / "index"
    shutil.copytree(seed_index, copy)
    return copy


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A private copy of the seed corpus that a test may edit (it matches `index_copy`)."""
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS, copy)
    return copy


@pytest.fixture(scope="session")
def ray_cluster():
    """A simulated two-node Ray cluster (one CPU each) on this machine; its address.

    Shut down at the end of the session, whatever the tests did.
    """
    pytest.importorskip("ray", reason='Ray tests need the extra: pip install -e ".[ray]"')
    for name, value in {
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_DEDUP_LOGS": "0",
        "RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO": "0",
    }.items():
        os.environ.setdefault(name, value)
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "object_store_memory": 150 * 2**20}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    try:
        cluster.add_node(**node)
        cluster.wait_for_nodes()
        yield cluster.address
    finally:
        cluster.shutdown()


@pytest.fixture(scope="session")
def ray_connected(ray_cluster):
    """This process connected to the simulated cluster once, for every Ray test; the
    address. Builds and `running_api` use the open connection instead of joining again."""
    from qa.cluster import connected

    with connected(ray_cluster):
        yield ray_cluster
