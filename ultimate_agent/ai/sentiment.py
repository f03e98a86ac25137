"""Lexicon-based sentiment with VADER: a label, a confidence and normalised polarity shares per text.

Rules (kept in one place so the API, the runner and the tests agree):

* ``prediction`` follows VADER's recommended thresholds on the compound score:
  ``compound >= 0.05`` is positive, ``compound <= -0.05`` is negative, anything in between is neutral.
* ``sentiment_scores`` are VADER's pos/neg/neu proportions rescaled to sum to exactly 1. They describe
  how much of the text carries each polarity; a clearly positive text can still be mostly neutral
  words, so the largest share is not necessarily the predicted label. Text with no scorable tokens
  (empty or whitespace only) gets ``neutral = 1``.
* ``confidence`` is the margin of the compound score from the decision boundary, mapped to [0.5, 1]:
  0.5 exactly at a threshold (the label could flip), 1.0 at compound = +/-1 for polar labels and at
  compound = 0 for neutral. It is continuous across the thresholds, so it never jumps when a score
  crosses from one label to the next.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
LABELS = ("positive", "negative", "neutral")


def label_for(compound: float) -> str:
    """The label VADER's standard thresholds give a compound score."""
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def confidence_for(label: str, compound: float) -> float:
    """How far the compound score sits from the boundary of its label, in [0.5, 1]."""
    if label == "positive":
        margin = (compound - POSITIVE_THRESHOLD) / (1.0 - POSITIVE_THRESHOLD)
    elif label == "negative":
        margin = (NEGATIVE_THRESHOLD - compound) / (1.0 + NEGATIVE_THRESHOLD)
    else:
        margin = 1.0 - abs(compound) / POSITIVE_THRESHOLD
    return 0.5 + 0.5 * min(1.0, max(0.0, margin))


class SentimentModel:
    """VADER sentiment; the analyzer (and its lexicon file) is loaded on first use, once."""

    name = "vader"

    def __init__(self) -> None:
        self._analyzer: Any = None
        self._lock = threading.Lock()

    @property
    def analyzer(self) -> Any:
        """The shared SentimentIntensityAnalyzer, created on first access."""
        if self._analyzer is None:
            with self._lock:
                if self._analyzer is None:
                    # Imported here so importing this module stays cheap; the lexicon ships with the
                    # package, nothing is downloaded.
                    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                    self._analyzer = SentimentIntensityAnalyzer()
        return self._analyzer

    def load(self) -> Any:
        """Create the analyzer now rather than on the first predict(); returns it."""
        return self.analyzer

    def predict(self, text: str) -> dict[str, Any]:
        """Label, confidence, normalised polarity shares and the compound score of one text."""
        raw = self.analyzer.polarity_scores(text)
        compound = float(raw["compound"])
        pos, neg, neu = float(raw["pos"]), float(raw["neg"]), float(raw["neu"])
        total = pos + neg + neu
        if total > 0:
            shares = {"positive": pos / total, "negative": neg / total, "neutral": neu / total}
        else:
            shares = {"positive": 0.0, "negative": 0.0, "neutral": 1.0}
        label = label_for(compound)
        return {
            "prediction": label,
            "confidence": round(confidence_for(label, compound), 4),
            # Left unrounded so the three shares sum to 1 up to float error.
            "sentiment_scores": shares,
            "compound": round(compound, 4),
        }

    def predict_batch(self, texts: list[str]) -> list[dict[str, Any]]:
        """predict() for each text, in order."""
        return [self.predict(text) for text in texts]


@lru_cache(maxsize=1)
def default_model() -> SentimentModel:
    """The process-wide model, so the lexicon is parsed once however many tasks run."""
    return SentimentModel()
