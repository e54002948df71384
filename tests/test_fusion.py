from __future__ import annotations

import math

import numpy as np
import pytest

from qa.fusion import fuse, reciprocal_rank, zscore
from qa.query import Mode


def test_zscore_by_hand():
    # mean 2, population standard deviation sqrt(2/3)
    assert zscore(np.array([1.0, 2.0, 3.0])) == pytest.approx(
        [-1 / math.sqrt(2 / 3), 0.0, 1 / math.sqrt(2 / 3)]
    )
    assert zscore(np.array([5.0, 5.0])).tolist() == [0.0, 0.0]
    assert zscore(np.array([])).size == 0


def test_fuse_is_the_weighted_sum_of_z_scores():
    bm25 = np.array([10.0, 0.0, 5.0])  # z: 1.2247, -1.2247, 0
    cosine = np.array([0.2, 0.8, 0.5])  # z: -1.2247, 1.2247, 0
    z = math.sqrt(3 / 2)
    assert fuse([bm25, cosine], [1, 1]) == pytest.approx([0.0, 0.0, 0.0])
    assert fuse([bm25, cosine], [2, 1]) == pytest.approx([z, -z, 0.0])
    assert fuse([bm25, cosine], [0, 1]) == pytest.approx([-z, z, 0.0])


def test_reciprocal_rank_fusion_by_hand():
    fused = reciprocal_rank([[7, 3], [3, 9]], k=60)
    assert fused[3] == pytest.approx(1 / (60 + 2) + 1 / (60 + 1))
    assert fused[7] == pytest.approx(1 / 61)
    assert fused[9] == pytest.approx(1 / 62)


def test_modes_switch_legs_off():
    assert (Mode.HYBRID.lexical, Mode.HYBRID.dense) == (True, True)
    assert (Mode.DENSE.lexical, Mode.DENSE.dense) == (False, True)
    assert (Mode.LEXICAL.lexical, Mode.LEXICAL.dense) == (True, False)
    with pytest.raises(ValueError, match="hybrid, dense, lexical"):
        Mode.from_str("fancy")
