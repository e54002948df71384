"""Dense vector indexes: exact search for small sets, IVF with 8-bit codes for large ones.

Below `EXACT_UP_TO` vectors a flat index scores every vector (exact, and fast enough); it
keeps each component as float16 (`IndexScalarQuantizer`, `QT_fp16`), half the disk of
float32 for a change in the cosines below 0.001. A float16 code needs no training and
decodes to a float32 that encodes back to the same code, so the rows of an unchanged
document are carried bit for bit from one generation to the next.
Above it, an inverted-file index with scalar-quantised codes (`IVF<nlist>,SQ8`) scores only
the `nprobe` nearest of `nlist` clusters, a quarter of the memory of float32 rows. The
threshold and the parameters were measured on this project's data (BENCHMARKS.md, "Speed
and scale"): recall@10 against exact search stays at or above 0.95.

Both kinds answer `reconstruct_batch` (the IVF keeps a direct map from id to code), both
take an id selector for filtered search, and both load memory-mapped from disk.
`VectorIndex` is what the rest of the package holds: one such index with its rows numbered
from 0, built, searched, read back, joined and saved through it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.settings import Choice

if TYPE_CHECKING:
    import faiss

EXACT_UP_TO = 10_000  # vectors; above, exact searches take a share of the answer (BENCHMARKS.md)
TRAIN_PER_LIST = 40  # training vectors per IVF cluster (faiss warns below 39)
PROBE_FRACTION = 1 / 64  # of the clusters visited per search: recall@10 >= 0.95
MIN_PROBES = 16


class Kind(Choice):
    """The index types this module makes."""

    EXACT = "flat"
    IVF_SQ8 = "ivf-sq8"

    @classmethod
    def label(cls) -> str:
        return "vector index kind"

    @classmethod
    def of(cls, index: faiss.Index) -> Kind:
        """The kind of a loaded index."""
        import faiss

        return cls.IVF_SQ8 if isinstance(index, faiss.IndexIVF) else cls.EXACT


def kind_for(n: int, exact_up_to: int = EXACT_UP_TO) -> Kind:
    """The index type for `n` vectors: exact up to `exact_up_to`, approximate above."""
    return Kind.EXACT if n <= exact_up_to else Kind.IVF_SQ8


def build(vectors: np.ndarray, exact_up_to: int = EXACT_UP_TO, seed: int = 0) -> faiss.Index:
    """An inner-product index over unit-length float32 rows, of the kind their number calls for.

    Args:
        vectors: shape (n, dimension), float32, unit length.
        exact_up_to: the largest n that gets an exact index.
        seed: seeds the IVF training sample and k-means, so a build is reproducible.
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dimension = vectors.shape
    if kind_for(n, exact_up_to) is Kind.EXACT:
        index = faiss.IndexScalarQuantizer(
            dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        index.add(vectors)
        return index
    nlist = lists_for(n)
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.seed = seed
    sample = np.random.default_rng(seed).choice(n, min(n, nlist * TRAIN_PER_LIST), replace=False)
    index.train(vectors[np.sort(sample)])
    index.add(vectors)
    index.make_direct_map()  # reconstruct_batch by id
    index.nprobe = probes_for(nlist)
    return index


def lists_for(n: int) -> int:
    """IVF clusters for n vectors: the power of two nearest 2·√n (2,048 at a million)."""
    return 2 ** round(math.log2(max(2 * math.sqrt(n), 1)))


def probes_for(nlist: int) -> int:
    """Clusters visited per search."""
    return min(nlist, max(MIN_PROBES, round(nlist * PROBE_FRACTION)))


def search(
    index: faiss.Index, queries: np.ndarray, k: int, ids: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The `k` best rows for each query: (scores, row numbers), -1 where there are fewer.

    Args:
        index: an index from `build` or `read`.
        queries: shape (q, dimension).
        k: how many rows per query.
        ids: search only these row numbers (int64), or None for all.
    """
    import faiss

    params = None
    if ids is not None:
        # One bit per row, read by faiss as it scans: a batch selector would hash every id
        # first, which for a filter keeping half of 300,000 rows takes longer than the search.
        chosen = np.zeros(index.ntotal, dtype=bool)
        chosen[ids] = True
        bitmap = np.packbits(chosen, bitorder="little")  # kept alive until the search returns
        selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
        if isinstance(index, faiss.IndexIVF):
            # A filter leaves fewer rows in each cluster: visit more clusters to find as many.
            widen = math.ceil(index.ntotal / max(len(ids), 1))
            nprobe = min(index.nlist, index.nprobe * widen)
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        else:
            params = faiss.SearchParameters(sel=selector)
    with _threads(1 if len(queries) == 1 else None):
        return index.search(queries, k, params=params)


@contextmanager
def _threads(count: int | None) -> Iterator[None]:
    """Run faiss with `count` OpenMP threads in this thread (None: leave as is).

    One question's search is memory-bound: a second thread only adds a wait for a free
    core. On this project's shared 2-core machine an exact search of 10,000 vectors took
    24 ms at p50 with two threads and 0.45 ms with one (BENCHMARKS.md). The setting is the
    calling thread's own (an OpenMP ICV), so a build in another thread keeps its threads.
    """
    import faiss

    if count is None:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def read(path: Path, mmap: bool = True) -> faiss.Index:
    """Load an index written by `write`; memory-mapped (read-only) unless `mmap` is off.

    A mapped index shares the page cache with other processes and loads in constant time;
    its vectors are read from disk as searches touch them.
    """
    import faiss

    flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap else 0
    return faiss.read_index(str(path), flags)


def write(index: faiss.Index, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


class VectorIndex:
    """Unit-length rows in a FAISS inner-product index, numbered from 0 in insertion order.

    The index is exact (float16 codes) or IVF with 8-bit codes by its size (`kind_for`);
    rows read back are the decoded codes.
    """

    def __init__(self, index: faiss.Index) -> None:
        self.faiss = index
        self._decoded: np.ndarray | None = None  # an exact index's rows, once read (`rows`)
        self._codes: IvfCodes | None | bool = False  # an IVF's, once looked for (`rows`)

    @classmethod
    def build(cls, rows: np.ndarray, dimension: int, exact_up_to: int = EXACT_UP_TO) -> VectorIndex:
        """An index over `rows` (shape (n, dimension), unit length), of the kind n calls for."""
        rows = np.ascontiguousarray(rows, dtype=np.float32).reshape(-1, dimension)
        return cls(build(rows, exact_up_to))

    @classmethod
    def join(cls, parts: Sequence[np.ndarray], dimension: int) -> VectorIndex:
        """An index over these blocks of rows, one after another."""
        return cls.build(
            np.concatenate([np.empty((0, dimension), dtype=np.float32), *parts]), dimension
        )

    @classmethod
    def load(cls, path: Path, mmap: bool = True) -> VectorIndex:
        """Read an index saved by `save`; memory-mapped and read-only unless `mmap` is off."""
        return cls(read(path, mmap))

    def save(self, path: Path) -> None:
        write(self.faiss, path)

    @property
    def dimension(self) -> int:
        return int(self.faiss.d)

    @property
    def kind(self) -> Kind:
        return Kind.of(self.faiss)

    def __len__(self) -> int:
        return int(self.faiss.ntotal)

    def search(
        self, queries: np.ndarray, k: int, ids: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best rows for each query: (scores, row numbers), -1 where there are fewer;
        only among `ids` (int64) when given."""
        return search(self.faiss, queries, k, ids)

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The stored rows with these numbers, shape (len(ids), dimension).

        An exact index (at most `EXACT_UP_TO` rows: 15 MB as float32 at 384 dimensions)
        decodes all its rows on the first call and keeps them: a question reads a few
        hundred rows, and gathering them from memory takes a tenth of decoding them anew.
        An IVF index decodes the rows asked for in one batch when its codes can be gathered
        by row number (`IvfCodes`), else one by one.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if self.kind is not Kind.EXACT:
            if self._codes is False:
                self._codes = IvfCodes.of(self.faiss)
            if self._codes is None:
                return self.faiss.reconstruct_batch(ids)
            return self._codes.rows(ids)
        if len(self) > EXACT_UP_TO:
            return self.faiss.reconstruct_batch(ids)
        if self._decoded is None:
            self._decoded = self.all()
        return self._decoded[ids]

    def all(self) -> np.ndarray:
        """Every stored row, in order."""
        if len(self) == 0:
            return np.empty((0, self.dimension), dtype=np.float32)
        return self.faiss.reconstruct_n(0, len(self))


class IvfCodes:
    """The rows of a memory-mapped IVF index, gathered by row number and decoded in one batch.

    `reconstruct_batch` decodes row by row: about 1.6 µs a row at 384 dimensions, 0.7 ms
    for the 450 sentences of one question's candidates, where faiss's batch decoder
    (`sa_decode`) takes 0.06 ms given their codes (BENCHMARKS.md, "Query latency"). A
    memory-mapped IVF keeps each cluster's codes and then its ids, one cluster after the
    other, in one mapping of its file; from the direct map (each row's cluster and place in
    it) this table knows where each row's code starts in that mapping, so the codes of any
    rows are one numpy gather. `of` gives a table only where that layout holds and a sample
    of rows decodes to exactly what `reconstruct_batch` gives; elsewhere (an index built in
    memory, another faiss) rows are reconstructed one by one.
    """

    def __init__(
        self, index: faiss.IndexIVF, words: np.ndarray, starts: np.ndarray, clusters: np.ndarray
    ) -> None:
        self._index = index  # holds the mapping that `words` views
        self._words = words  # every code of the mapping, as overlapping rows of 8-byte words
        self._starts = starts  # each row's first word there
        self._clusters = clusters  # each row's cluster number, as the bytes that lead its code

    @classmethod
    def of(cls, index: faiss.Index) -> IvfCodes | None:
        """The table for `index`, or None where its codes cannot be gathered by row number."""
        import faiss
        from numpy.lib.stride_tricks import as_strided

        if not isinstance(index, faiss.IndexIVF) or index.ntotal == 0:
            return None
        lists = faiss.downcast_InvertedLists(index.invlists)
        if not isinstance(lists, faiss.ArrayInvertedLists):
            return None  # other lists may copy a cluster's codes on each read
        size = lists.code_size  # bytes; each cluster's codes are followed by its int64 ids
        if index.direct_map.type != faiss.DirectMap.Array or size % 8:
            return None
        sizes = np.array([lists.list_size(n) for n in range(index.nlist)], dtype=np.int64)
        filled = np.flatnonzero(sizes)
        at = np.array([int(lists.get_codes(int(n))) for n in filled], dtype=np.int64)
        if at[0] % 8 or not np.array_equal(np.diff(at), sizes[filled[:-1]] * (size + 8)):
            return None  # not one mapping laid out cluster after cluster
        span = int(at[-1] - at[0] + sizes[filled[-1]] * size)
        mapped = faiss.rev_swig_ptr(lists.get_codes(int(filled[0])), span).view(np.uint64)
        width = size // 8
        words = as_strided(
            mapped, shape=(len(mapped) - width + 1, width), strides=(8, 8), writeable=False
        )
        first = np.zeros(index.nlist, dtype=np.int64)
        first[filled] = (at - at[0]) // 8
        place = faiss.vector_to_array(index.direct_map.array)  # cluster << 32 | place in it
        starts = first[place >> 32] + (place & 0xFFFFFFFF) * width
        coarse = index.coarse_code_size()  # bytes of the cluster number, little-endian
        clusters = (place >> 32).astype("<u8").view(np.uint8).reshape(-1, 8)[:, :coarse].copy()
        table = cls(index, words, starts, clusters)
        sample = np.linspace(0, index.ntotal - 1, min(index.ntotal, 16)).astype(np.int64)
        if not np.array_equal(table.rows(sample), index.reconstruct_batch(sample)):
            return None
        return table

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The decoded rows with these numbers (int64), as `reconstruct_batch` gives them."""
        coarse = self._clusters.shape[1]
        codes = np.empty((len(ids), coarse + self._words.shape[1] * 8), dtype=np.uint8)
        codes[:, :coarse] = self._clusters[ids]
        codes[:, coarse:] = self._words[self._starts[ids]].view(np.uint8)
        with _threads(1):
            return self._index.sa_decode(codes)
