from __future__ import annotations

import math

import numpy as np
import pytest

from qa.search.fusion import fuse, reciprocal_rank, rerank, zscore
from qa.search.query import Mode


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


def test_rerank_by_hand():
    # Five candidates; the best three by fused score (0, 2, 4) are reranked by one more leg.
    fused = np.array([3.0, 0.5, 2.0, 0.0, 1.0])
    top = np.array([0, 2, 4])
    maxsim = np.array([0.1, 0.2, 0.9])  # for 0, 2, 4: candidate 4 matches best
    z = math.sqrt(3 / 2)  # z-scores of (3, 2, 1) are (z, 0, -z)
    # maxsim: mean 0.4, deviations (-0.3, -0.2, 0.5), standard deviation sqrt(0.38 / 3)
    spread = math.sqrt(0.38 / 3)
    reranked = [z - 0.3 / spread, 0 - 0.2 / spread, -z + 0.5 / spread]  # 0.382, -0.562, 0.180
    # The rest (1 and 3) keep their gaps to the lowest fused top score (1.0), below the
    # lowest reranked score minus one.
    low = min(reranked) - 1.0
    expected = [reranked[0], low - 0.5, reranked[1], low - 1.0, reranked[2]]
    assert rerank(fused, top, [maxsim]) == pytest.approx(expected)
    assert np.argsort(-rerank(fused, top, [maxsim])).tolist() == [0, 4, 2, 1, 3]


def test_rerank_weighs_each_leg():
    fused = np.array([3.0, 2.0, 1.0])
    top = np.array([0, 1, 2])
    leg = np.array([0.0, 0.0, 3.0])  # z-scores (-1/sqrt(2), -1/sqrt(2), sqrt(2))
    z = math.sqrt(3 / 2)
    half = [z - 0.5 / math.sqrt(2), -0.5 / math.sqrt(2), -z + 0.5 * math.sqrt(2)]
    assert rerank(fused, top, [leg], [0.5]) == pytest.approx(half)
    assert rerank(fused, top, [leg], [1.0]).tolist() == rerank(fused, top, [leg]).tolist()


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
