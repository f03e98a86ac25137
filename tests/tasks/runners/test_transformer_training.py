"""transformer_training runner: causal masking, learning below the uniform baseline, validation, control, resume."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from ultimate_agent.ai.networks import CharTransformer, load_model
from ultimate_agent.tasks.runners.transformer_training import TASK_TYPE

from .runner_support import (
    assert_cancels,
    assert_invalid,
    assert_progress_complete,
    interrupt_then_resume,
    run_task,
)

TINY = {"epochs": 3, "d_model": 32, "nhead": 2, "num_layers": 1, "seq_len": 32}
PATTERN_TEXT = "the quick brown fox jumps over the lazy dog. " * 40


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_model_is_causal() -> None:
    torch.manual_seed(0)
    model = CharTransformer(vocab_size=10, d_model=16, nhead=2, num_layers=2, seq_len=12, dropout=0.0).eval()
    ids = torch.randint(0, 10, (2, 12))
    changed = ids.clone()
    changed[:, 8:] = (changed[:, 8:] + 1) % 10
    with torch.no_grad():
        a, b = model(ids), model(changed)
    assert torch.allclose(a[:, :8], b[:, :8], atol=1e-6)  # earlier positions never see later characters
    assert not torch.allclose(a[:, 8:], b[:, 8:])


def test_learns_the_shipped_corpus_below_the_uniform_baseline(tmp_path: Path) -> None:
    outcome, seen = run_task(TASK_TYPE, tmp_path, TINY)
    result, history = outcome.result, outcome.history
    assert result["text_source"] == "shipped corpus" and result["vocab_size"] > 20
    assert result["uniform_baseline_loss"] == round(math.log(result["vocab_size"]), 4)
    assert result["test_loss"] < 0.8 * result["uniform_baseline_loss"] and result["learned"]
    assert history[-1]["validation_loss"] < history[0]["validation_loss"]
    assert set(history[0]) == {"epoch", "total_epochs", "training_loss", "validation_loss", "accuracy",
                               "perplexity"}
    assert history[-1]["perplexity"] == pytest.approx(math.exp(history[-1]["validation_loss"]), rel=1e-3)
    assert outcome.ai_result["perplexity"] == result["test_perplexity"]
    assert len(result["sample"]) == 120
    assert_progress_complete(seen)
    json.dumps(result), json.dumps(history)

    model, spec = load_model(Path(result["model_path"]), torch.device("cpu"))
    assert isinstance(model, CharTransformer) and len(spec["vocab"]) == result["vocab_size"]


def test_learns_user_text(tmp_path: Path) -> None:
    outcome, _ = run_task(TASK_TYPE, tmp_path, {**TINY, "text": PATTERN_TEXT, "seq_len": 16, "epochs": 6})
    assert outcome.result["text_source"] == "config"
    assert outcome.result["test_accuracy"] > 0.6  # a repeated sentence is mostly predictable


def test_rejects_bad_config() -> None:
    assert_invalid(TASK_TYPE, {"epochs": 0}, "epochs")
    assert_invalid(TASK_TYPE, {"epochs": 1001}, "epochs")
    assert_invalid(TASK_TYPE, {"vocab": 5}, "vocab")
    assert_invalid(TASK_TYPE, {"d_model": 30, "nhead": 4}, "nhead")
    assert_invalid(TASK_TYPE, {"text": "too short"}, "text")
    assert_invalid(TASK_TYPE, {"text": "x" * 200_001}, "text")


def test_cancel_stops_the_run(tmp_path: Path) -> None:
    assert_cancels(TASK_TYPE, tmp_path, TINY)


def test_interrupted_run_resumes_to_the_same_result(tmp_path: Path) -> None:
    config = {**TINY, "epochs": 3, "text": PATTERN_TEXT, "seq_len": 16}
    straight, _ = run_task(TASK_TYPE, tmp_path / "straight", config)
    resumed, seen = interrupt_then_resume(TASK_TYPE, tmp_path / "resumed", config)
    assert resumed.result["resumed_from_epoch"] == 2
    assert resumed.history == straight.history  # dropout RNG state is restored with the checkpoint
    assert resumed.result["test_loss"] == straight.result["test_loss"]
    assert_progress_complete(seen)
