"""sentiment_analysis runner and the VADER SentimentModel behind it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ultimate_agent.ai.sentiment import SentimentModel, confidence_for, label_for
from ultimate_agent.errors import InvalidRequest
from ultimate_agent.tasks.context import TaskCancelled, TaskContext
from ultimate_agent.tasks.runners.sentiment_analysis import (
    CHUNK_CHARS,
    CHUNK_TEXTS,
    SAMPLE_TEXTS,
    TASK_TYPE,
    chunks,
)

POSITIVE = "This is great, I love it!"
NEGATIVE = "This is terrible and I hate it."
NEUTRAL = "The meeting is at noon."


def make_context(tmp_path: Path, cfg: dict[str, Any], seen: list) -> TaskContext:
    return TaskContext(task_id="t-test", task_type="sentiment_analysis", config=cfg, instance_path=tmp_path,
                       on_progress=lambda p, d: seen.append((p, d)))


@pytest.mark.parametrize(("text", "label"),
                         [(POSITIVE, "positive"), (NEGATIVE, "negative"), (NEUTRAL, "neutral")])
def test_model_labels_clear_texts(text: str, label: str) -> None:
    prediction = SentimentModel().predict(text)
    assert prediction["prediction"] == label
    assert sum(prediction["sentiment_scores"].values()) == pytest.approx(1.0, abs=1e-9)
    assert set(prediction["sentiment_scores"]) == {"positive", "negative", "neutral"}
    assert 0.5 <= prediction["confidence"] <= 1.0
    assert label_for(prediction["compound"]) == label
    if label != "neutral":
        # A clear text is far from the decision boundary, so its confidence is high.
        assert prediction["confidence"] > 0.8
        assert prediction["sentiment_scores"][label] > prediction["sentiment_scores"][
            "negative" if label == "positive" else "positive"]


def test_empty_text_is_fully_neutral() -> None:
    prediction = SentimentModel().predict("")
    assert prediction["prediction"] == "neutral"
    assert prediction["sentiment_scores"] == {"positive": 0.0, "negative": 0.0, "neutral": 1.0}
    assert prediction["confidence"] == 1.0


def test_confidence_rule_is_half_at_thresholds_and_continuous() -> None:
    assert label_for(0.05) == "positive" and label_for(-0.05) == "negative" and label_for(0.049) == "neutral"
    assert confidence_for("positive", 0.05) == pytest.approx(0.5)
    assert confidence_for("negative", -0.05) == pytest.approx(0.5)
    assert confidence_for("neutral", 0.0499999) == pytest.approx(0.5, abs=1e-5)
    assert confidence_for("positive", 1.0) == confidence_for("negative", -1.0) == 1.0
    assert confidence_for("neutral", 0.0) == 1.0


def test_analyzer_is_created_lazily_once_and_batch_matches_single() -> None:
    model = SentimentModel()
    assert model._analyzer is None
    batch = model.predict_batch([POSITIVE, NEGATIVE, NEUTRAL])
    analyzer = model._analyzer
    assert analyzer is not None
    assert batch == [model.predict(POSITIVE), model.predict(NEGATIVE), model.predict(NEUTRAL)]
    assert model._analyzer is analyzer


def test_chunks_cover_every_text_within_limits() -> None:
    texts = ["a" * 3000] * 30 + ["b"] * 1200 + [""] * 3
    spans = chunks(texts)
    assert spans[0][0] == 0 and spans[-1][1] == len(texts)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
    for start, end in spans:
        assert 0 < end - start <= CHUNK_TEXTS
        assert end - start == 1 or sum(len(t) for t in texts[start:end]) <= CHUNK_CHARS


def test_run_reports_labels_distribution_and_throughput(tmp_path: Path) -> None:
    texts = [POSITIVE, NEGATIVE, NEUTRAL] * 400 + [POSITIVE]
    cfg = TASK_TYPE.validate({"texts": texts, "max_results": 5})
    seen: list = []
    outcome = TASK_TYPE.run(make_context(tmp_path, cfg, seen), cfg)
    result = outcome.result
    assert result["count"] == 1201
    assert result["label_distribution"] == {"positive": 401, "negative": 400, "neutral": 400}
    labels = [r["prediction"] for r in result["results"]]
    assert labels == ["positive", "negative", "neutral", "positive", "negative"]
    assert result["returned"] == 5 and result["truncated"] is True
    model = SentimentModel()
    expected_mean = sum(model.predict(t)["compound"] for t in texts) / len(texts)
    assert result["mean_compound"] == pytest.approx(expected_mean, abs=1e-4)
    assert result["texts_per_second"] > 0
    assert outcome.ai_result["dominant_label"] == "positive"
    assert outcome.ai_result["label_distribution"] == result["label_distribution"]
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100
    assert len(seen) >= 4  # more than one chunk, so progress moved in steps


def test_default_config_runs_the_samples(tmp_path: Path) -> None:
    cfg = TASK_TYPE.validate({})
    assert cfg["texts"] == list(SAMPLE_TEXTS)
    assert TASK_TYPE.validate(cfg) == cfg
    result = TASK_TYPE.run(make_context(tmp_path, cfg, []), cfg).result
    assert result["count"] == len(SAMPLE_TEXTS) and result["truncated"] is False
    assert [r["prediction"] for r in result["results"][:3]] == ["positive", "negative", "neutral"]


@pytest.mark.parametrize(("config", "field"), [
    ({"texts": []}, "texts"),
    ({"texts": [POSITIVE, "x" * 5001]}, "texts.1"),
    ({"texts": [POSITIVE, 3]}, "texts.1"),
    ({"texts": ["x" * 5000] * 200 + ["x"]}, "texts"),
    ({"texts": ["ok"] * 10_001}, "texts"),
    ({"max_results": -1}, "max_results"),
    ({"max_results": 10_001}, "max_results"),
    ({"bogus": 1}, "bogus"),
])
def test_bad_config_names_the_field(config: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        TASK_TYPE.validate(config)
    assert caught.value.details["field"] == field


def test_total_size_limit_is_inclusive() -> None:
    assert len(TASK_TYPE.validate({"texts": ["x" * 5000] * 200})["texts"]) == 200


def test_cancel_stops_the_run(tmp_path: Path) -> None:
    cfg = TASK_TYPE.validate({"texts": [POSITIVE] * 2000})
    ctx: TaskContext

    def on_progress(percent: float, details: dict | None) -> None:
        ctx.control.cancel()

    ctx = TaskContext(task_id="t-test", task_type="sentiment_analysis", config=cfg, instance_path=tmp_path,
                      on_progress=on_progress)
    with pytest.raises(TaskCancelled):
        TASK_TYPE.run(ctx, cfg)
