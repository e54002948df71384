"""The embedder's device: a GPU when torch sees one, else the CPU; `--device` and `QA_DEVICE`."""

from __future__ import annotations

import pytest
import torch

from qa.cli import main
from qa.embed import choose_device

GPU = torch.cuda.is_available()


def test_the_device_follows_what_torch_sees(monkeypatch, embedder):
    monkeypatch.delenv("QA_DEVICE", raising=False)
    assert choose_device() == ("cuda" if GPU else "cpu")
    assert embedder.device == ("cuda" if GPU else "cpu")
    assert str(embedder.model.device).startswith(embedder.device)


def test_qa_device_and_an_explicit_device_choose(monkeypatch):
    monkeypatch.setenv("QA_DEVICE", "CPU ")
    assert choose_device() == "cpu"
    monkeypatch.setenv("QA_DEVICE", "tpu")
    assert choose_device("cpu") == "cpu"  # the argument wins over the environment


@pytest.mark.parametrize(
    "device, message",
    [
        ("tpu", "unknown device 'tpu'; choose one of: cpu, cuda, mps (or cuda:N)"),
        ("cpu:1", "unknown device 'cpu:1'"),
        pytest.param(
            "cuda",
            "device 'cuda' asked for, but torch sees no GPU: use cpu",
            marks=pytest.mark.skipif(GPU, reason="this machine has a GPU"),
        ),
    ],
)
def test_a_device_that_cannot_run_is_refused(monkeypatch, device, message):
    monkeypatch.delenv("QA_DEVICE", raising=False)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        choose_device(device)


def test_the_command_names_a_bad_device_in_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("QA_DEVICE", raising=False)
    code = main(["ask", "--index", str(tmp_path), "--device", "tpu", "Who?"])
    error = capsys.readouterr().err
    assert code == 2
    assert error.strip().splitlines() == [
        "qa: unknown device 'tpu'; choose one of: cpu, cuda, mps (or cuda:N)"
    ]
