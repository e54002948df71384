"""One retrieval system behind a JSON-lines pipe, for `bench/peers.py`.

Usage: PYTHON bench/peer_systems.py SYSTEM MODEL_DIR, where SYSTEM is one of `SYSTEMS` and
PYTHON is the interpreter that has it (the project's own for qa, bm25s and FAISS; a venv of
its own for txtai, Haystack and LlamaIndex). Only the standard library is imported here:
each system imports its packages when it builds.

Requests and replies are one JSON object a line:

- `{"op": "build", "corpus": DIR, "passages": FILE, "index": DIR, "k": K}`: index the
  corpus, save the index into the empty folder `index`, and get ready to return K passages
  a question. qa reads the corpus folder through its own pipeline and writes the passages
  it made to `passages` (JSON lines: `id`, `source`, `text`, and `headed`, the text with
  its article's title and date in front as qa reads it); every other system indexes
  those `headed` texts, so all index the same passages.
  Reply: `version`, `cpu` (CPU seconds of this process and its children for the build:
  imports, model load, indexing and saving), `bytes` (the saved index folder).
- `{"op": "ask", "q": QUESTION}`: reply `ids`, the best K passage ids, best first,
  and `ms`, the wall time of the search call alone.
- `{"op": "stats"}`: reply `rss`, the peak resident set size in bytes so far.

A failure replies `{"error": "..."}`. Whatever a library prints goes to stderr, so stdout
carries only the replies.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

Search = Callable[[str], list[str]]


def _cpu_seconds() -> float:
    """User and system CPU time of this process and its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def folder_bytes(folder: Path) -> int:
    """Total size of the files under `folder`."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def _read_passages(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def build_qa(model: str, corpus: Path, passages: Path, index: Path, k: int) -> Search:
    """qa with its default settings: `build_index`, then `Engine.answer`."""
    from qa import threads

    threads.settle()  # as the `qa` command does before torch and faiss load
    from qa.engine import Engine, build_index

    build_index(corpus, index)
    engine = Engine(corpus, index, build_if_missing=False)
    stored = engine.index
    with open(passages, "w", encoding="utf-8") as out:
        for passage in stored.passages:
            document = stored.documents[passage.doc]
            row = {
                "id": passage.chunk_id,
                "source": document.source,
                "text": document.text[passage.start : passage.end],
                "headed": document.headed(passage.start, passage.end),
            }
            out.write(json.dumps(row) + "\n")

    def search(question: str) -> list[str]:
        return [p.chunk_id for p in engine.answer(question, k=k).passages]

    return search


def build_txtai(model: str, corpus: Path, passages: Path, index: Path, k: int) -> Search:
    """txtai's hybrid index: `Embeddings(hybrid=True, content=True, path=MODEL)`
    (BM25 terms index and dense vectors, scores combined by txtai)."""
    from txtai import Embeddings

    rows = _read_passages(passages)
    embeddings = Embeddings(hybrid=True, content=True, path=model)
    embeddings.index([{"id": row["id"], "text": row["headed"]} for row in rows])
    embeddings.save(str(index))

    def search(question: str) -> list[str]:
        return [str(hit["id"]) for hit in embeddings.search(question, k)]

    return search


def build_haystack(model: str, corpus: Path, passages: Path, index: Path, k: int) -> Search:
    """Haystack's hybrid pipeline: `InMemoryBM25Retriever` and `InMemoryEmbeddingRetriever`
    over one `InMemoryDocumentStore`, joined by `DocumentJoiner` with reciprocal rank fusion;
    SentenceTransformers embedders on the model folder."""
    from haystack import Document, Pipeline
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import (
        InMemoryBM25Retriever,
        InMemoryEmbeddingRetriever,
    )
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )

    rows = _read_passages(passages)
    store = InMemoryDocumentStore()
    embedder = SentenceTransformersDocumentEmbedder(model=model, progress_bar=False)
    embedder.warm_up()
    documents = [Document(id=row["id"], content=row["headed"]) for row in rows]
    store.write_documents(embedder.run(documents=documents)["documents"])
    store.save_to_disk(str(index / "documents.json"))

    pipeline = Pipeline()
    pipeline.add_component("text_embedder", SentenceTransformersTextEmbedder(model=model))
    pipeline.add_component("embedding_retriever", InMemoryEmbeddingRetriever(store, top_k=k))
    pipeline.add_component("bm25_retriever", InMemoryBM25Retriever(store, top_k=k))
    joiner = DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=k)
    pipeline.add_component("document_joiner", joiner)
    pipeline.connect("text_embedder", "embedding_retriever")
    pipeline.connect("bm25_retriever", "document_joiner")
    pipeline.connect("embedding_retriever", "document_joiner")
    pipeline.warm_up()

    def search(question: str) -> list[str]:
        result = pipeline.run(
            {"text_embedder": {"text": question}, "bm25_retriever": {"query": question}}
        )
        return [document.id for document in result["document_joiner"]["documents"]]

    return search


def build_llamaindex(model: str, corpus: Path, passages: Path, index: Path, k: int) -> Search:
    """LlamaIndex's hybrid retriever: `QueryFusionRetriever` (mode "reciprocal_rerank",
    `num_queries=1`, so no query is generated) over a `VectorStoreIndex` retriever and a
    `BM25Retriever`; `HuggingFaceEmbedding` on the model folder, no LLM."""
    from llama_index.core import Settings, VectorStoreIndex
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.schema import TextNode
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.retrievers.bm25 import BM25Retriever

    Settings.llm = None  # no language model: with one query the fusion retriever needs none
    Settings.embed_model = HuggingFaceEmbedding(model_name=model)
    nodes = [TextNode(id_=row["id"], text=row["headed"]) for row in _read_passages(passages)]
    vectors = VectorStoreIndex(nodes)
    bm25 = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=k)  # English, stemmed
    vectors.storage_context.persist(persist_dir=str(index / "vectors"))
    bm25.persist(str(index / "bm25"))
    retriever = QueryFusionRetriever(
        [vectors.as_retriever(similarity_top_k=k), bm25],
        similarity_top_k=k,
        num_queries=1,
        mode="reciprocal_rerank",
        use_async=True,  # as the documentation's example
    )

    def search(question: str) -> list[str]:
        return [hit.node.node_id for hit in retriever.retrieve(question)]

    return search


def build_bm25s(model: str, corpus: Path, passages: Path, index: Path, k: int) -> Search:
    """bm25s alone, as its README shows it: English stopwords, the Snowball stemmer, the
    default BM25 parameters."""
    import bm25s
    import Stemmer

    rows = _read_passages(passages)
    stemmer = Stemmer.Stemmer("english")
    texts = [row["headed"] for row in rows]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False))
    retriever.save(str(index), corpus=[{"id": row["id"], "text": row["headed"]} for row in rows])
    ids = [row["id"] for row in rows]

    def search(question: str) -> list[str]:
        tokens = bm25s.tokenize([question], stopwords="en", stemmer=stemmer, show_progress=False)
        found, _ = retriever.retrieve(tokens, k=min(k, len(ids)), show_progress=False)
        return [ids[i] for i in found[0]]

    return search


def build_faiss(model: str, corpus: Path, passages: Path, index: Path, k: int) -> Search:
    """FAISS alone: exact inner product (`IndexFlatIP`) over unit-length passage
    embeddings of the same model."""
    import faiss
    from sentence_transformers import SentenceTransformer

    rows = _read_passages(passages)
    encoder = SentenceTransformer(model, device="cpu")
    vectors = encoder.encode([row["headed"] for row in rows], normalize_embeddings=True)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    faiss.write_index(flat, str(index / "passages.faiss"))
    with open(index / "passages.jsonl", "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps({"id": row["id"], "text": row["headed"]}) + "\n")
    ids = [row["id"] for row in rows]

    def search(question: str) -> list[str]:
        query = encoder.encode([question], normalize_embeddings=True)
        _, found = flat.search(query, min(k, len(ids)))
        return [ids[i] for i in found[0] if i >= 0]

    return search


# name: (builder, the distribution whose version is reported)
SYSTEMS: dict[str, tuple[Callable[[str, Path, Path, Path, int], Search], str]] = {
    "qa": (build_qa, "qa"),
    "txtai": (build_txtai, "txtai"),
    "haystack": (build_haystack, "haystack-ai"),
    "llamaindex": (build_llamaindex, "llama-index-core"),
    "bm25s": (build_bm25s, "bm25s"),
    "faiss": (build_faiss, "faiss-cpu"),
}


def serve(name: str, model: str) -> int:
    """Answer requests on stdin until it closes."""
    replies = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # a library's prints go to stderr, never into the replies
    sys.stdout = sys.stderr
    builder, distribution = SYSTEMS[name]
    search: Search | None = None
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "build":
                started = _cpu_seconds()
                index = Path(request["index"])
                corpus, passages = Path(request["corpus"]), Path(request["passages"])
                search = builder(model, corpus, passages, index, request["k"])
                reply = {
                    "version": metadata.version(distribution),
                    "cpu": _cpu_seconds() - started,
                    "bytes": folder_bytes(index),
                }
            elif request["op"] == "ask":
                if search is None:
                    raise RuntimeError("ask before build")
                begun = time.perf_counter()
                ids = search(request["q"])
                reply = {"ids": ids, "ms": 1000 * (time.perf_counter() - begun)}
            elif request["op"] == "stats":
                reply = {"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
            else:
                raise ValueError(f"unknown op {request['op']!r}")
        except Exception as error:  # reported to the driver, which says which system failed
            reply = {"error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    # bench/ holds scripts named like modules (html.py): keep it off the import path
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != Path(here)]
    if len(sys.argv) != 3 or sys.argv[1] not in SYSTEMS:
        print(f"usage: peer_systems.py {{{','.join(SYSTEMS)}}} MODEL_DIR", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(serve(sys.argv[1], sys.argv[2]))
