"""sentiment_analysis: batch VADER sentiment over a list of texts (labels, scores and throughput)."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from marshmallow import Schema, ValidationError, fields
from marshmallow.validate import Length, Range

from ...ai.sentiment import LABELS, default_model
from ..context import TaskContext, TaskOutcome
from ..registry import TaskType

MAX_TEXTS = 10_000
MAX_TEXT_CHARS = 5_000
MAX_TOTAL_CHARS = 1_000_000  # VADER takes 2-15 us a character, so a task stays under ~15 s
# A chunk ends at whichever comes first, keeping each step between cancel checks well under 0.5 s.
CHUNK_CHARS = 10_000
CHUNK_TEXTS = 500
PREVIEW_CHARS = 100
SAMPLE_TEXTS = (
    "This is great, I love it!",
    "This is terrible and I hate it.",
    "The meeting is at noon.",
    "The food was okay but the service was outstanding.",
    "I'm not sure how I feel about the new update.",
    "Worst purchase ever. It broke after two days :(",
    "Absolutely fantastic support team, thank you so much!",
    "The package arrived on Tuesday.",
    "It's not bad, but it's not good either.",
    "I am really disappointed with the battery life.",
)


def _validate_total(texts: list[str]) -> None:
    total = sum(len(text) for text in texts)
    if total > MAX_TOTAL_CHARS:
        raise ValidationError(f"At most {MAX_TOTAL_CHARS} characters in all (got {total}).")


class Config(Schema):
    """sentiment_analysis configuration: the texts and how many per-text results to return."""

    texts = fields.List(fields.String(validate=Length(max=MAX_TEXT_CHARS)),
                        load_default=lambda: list(SAMPLE_TEXTS),
                        validate=[Length(1, MAX_TEXTS), _validate_total],
                        metadata={"description": f"1-{MAX_TEXTS} texts, each <= {MAX_TEXT_CHARS} characters "
                                                 "(default: ten built-in sample sentences)"})
    max_results = fields.Integer(load_default=1000, validate=Range(0, MAX_TEXTS),
                                 metadata={"description": "Per-text results returned (the first N)"})


def chunks(texts: list[str]) -> list[tuple[int, int]]:
    """(start, end) slices of `texts`, each at most CHUNK_TEXTS texts or about CHUNK_CHARS characters."""
    spans, start, chars = [], 0, 0
    for index, text in enumerate(texts):
        if index > start and (index - start >= CHUNK_TEXTS or chars + len(text) > CHUNK_CHARS):
            spans.append((start, index))
            start, chars = index, 0
        chars += len(text)
    spans.append((start, len(texts)))
    return spans


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Label every text, then summarise the label distribution, mean compound and throughput."""
    texts: list[str] = config["texts"]
    model = default_model()
    model.load()  # parse the lexicon before the clock starts, so throughput measures analysis only
    ctx.progress(0, {"stage": "analysing", "texts": len(texts)})
    predictions: list[dict[str, Any]] = []
    analysing = 0.0
    for start, end in chunks(texts):
        ctx.check()
        began = time.perf_counter()
        predictions.extend(model.predict_batch(texts[start:end]))
        analysing += time.perf_counter() - began
        ctx.progress(100 * end / len(texts) * 0.99, {"stage": "analysing", "done": end, "texts": len(texts)})

    counts = Counter(p["prediction"] for p in predictions)
    distribution = {label: counts.get(label, 0) for label in LABELS}
    mean_compound = round(sum(p["compound"] for p in predictions) / len(predictions), 4)
    mean_confidence = round(sum(p["confidence"] for p in predictions) / len(predictions), 4)
    texts_per_second = round(len(texts) / analysing, 1) if analysing > 0 else None
    returned = predictions[:config["max_results"]]
    result = {
        "model": model.name,
        "count": len(texts),
        "characters": sum(len(text) for text in texts),
        "results": [{"index": i, "text": texts[i][:PREVIEW_CHARS], **p} for i, p in enumerate(returned)],
        "returned": len(returned),
        "truncated": len(returned) < len(predictions),
        "label_distribution": distribution,
        "label_fractions": {label: round(n / len(texts), 4) for label, n in distribution.items()},
        "mean_compound": mean_compound,
        "mean_confidence": mean_confidence,
        "analysis_seconds": round(analysing, 4),
        "texts_per_second": texts_per_second,
    }
    ai_result = {
        "model": model.name,
        "count": len(texts),
        "label_distribution": distribution,
        "dominant_label": max(LABELS, key=lambda label: distribution[label]),
        "mean_compound": mean_compound,
        "mean_confidence": mean_confidence,
        "texts_per_second": texts_per_second,
    }
    ctx.progress(100, {"stage": "done", "texts": len(texts), "texts_per_second": texts_per_second})
    return TaskOutcome(result=result, ai_result=ai_result)


TASK_TYPE = TaskType(
    name="sentiment_analysis",
    run=run,
    schema=Config,
    description="Batch sentiment (positive/negative/neutral) with VADER over a list of texts",
    ai_workload=True,
    training=False,
    work_units=lambda c: max(1.0, len(c.get("texts") or SAMPLE_TEXTS) / 1000),
    default_estimate_seconds=2.0,
)
