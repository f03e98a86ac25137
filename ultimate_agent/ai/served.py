"""Served models: one adapter per kind of model, turning validated API input into predictions."""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import InvalidRequest
from .datasets import CharVocab
from .sentiment import SentimentModel

MAX_TEXT_CHARS = 5000
MAX_GENERATED_CHARS = 200


def _bad_input(message: str, expected: Any, index: int | None = None) -> InvalidRequest:
    field_name = "input" if index is None else f"input.{index}"
    return InvalidRequest("Input does not fit the model", {"field": field_name, "message": message,
                                                          "expected": expected})


@dataclass
class ServedModel:
    """What every served model exposes: identity, measured quality, input spec and predict()."""

    name: str
    type: str
    version: int
    source: str  # "builtin" or the task id that trained it
    metric: str | None
    accuracy: float | None
    parameters: int
    input_spec: dict[str, Any]
    description: str
    extra: dict[str, Any] = field(default_factory=dict)

    def prepare(self, value: Any) -> tuple[bool, list[Hashable], Any]:
        """Validate a request's input: (is it a batch, one cache key per item, the items ready to predict).

        Raises InvalidRequest naming the offending field (`input`, or `input.<n>` inside a batch).
        """
        raise NotImplementedError

    def predict(self, payload: Any, indices: list[int], details: bool,
                options: dict[str, Any]) -> list[dict[str, Any]]:
        """Predictions for the prepared items at `indices`, in that order."""
        raise NotImplementedError

    @property
    def size(self) -> str:
        """small / medium / large by parameter count (VADER counts its lexicon entries)."""
        return "small" if self.parameters < 50_000 else "medium" if self.parameters < 1_000_000 else "large"


class TextModelMixin:
    """Input is a string, or a list of strings for a batch."""

    def check_text(self, item: Any, index: int | None) -> str:
        """One text item, validated."""
        expected = {"type": "string", "max_length": MAX_TEXT_CHARS}
        if not isinstance(item, str) or not item.strip():
            raise _bad_input("Expected non-empty text", expected, index)
        if len(item) > MAX_TEXT_CHARS:
            raise _bad_input(f"Text longer than {MAX_TEXT_CHARS} characters", expected, index)
        return item

    def prepare(self, value: Any) -> tuple[bool, list[Hashable], list[str]]:
        """A string, or a list of strings as a batch; each text is its own cache key."""
        batch = isinstance(value, list)
        items = value if batch else [value]
        texts = [self.check_text(item, i if batch else None) for i, item in enumerate(items)]
        return batch, list(texts), texts


@dataclass
class SentimentServed(TextModelMixin, ServedModel):
    """VADER: a lexicon and rule model; it has no weights to train."""

    model: SentimentModel = field(default_factory=SentimentModel)

    def predict(self, payload: list[str], indices: list[int], details: bool,
                options: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for text in (payload[i] for i in indices):
            scored = self.model.predict(text)
            row = {"prediction": scored["prediction"], "confidence": scored["confidence"],
                   "sentiment_scores": {k: round(v, 4) for k, v in scored["sentiment_scores"].items()}}
            if details:
                row["compound"] = scored["compound"]
            out.append(row)
        return out


def _nested_shape(value: Any) -> tuple[int, ...] | None:
    """Shape of a rectangular nested list of numbers, None when it is ragged or not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return () if math.isfinite(value) else None
    if not isinstance(value, list) or not value:
        return None
    shapes = {_nested_shape(v) for v in value}
    if len(shapes) != 1 or None in shapes:
        return None
    return (len(value), *shapes.pop())


@dataclass
class TensorServed(ServedModel):
    """A torch model over fixed-size numeric vectors (digits classifiers, the diabetes regressor)."""

    module: torch.nn.Module | None = None
    item_shapes: tuple[tuple[int, ...], ...] = ((64,),)
    value_range: tuple[float, float] | None = None
    scale: float = 1.0  # applied to the raw input (digits: pixel 0-16 -> 0-1 as in training)
    model_shape: tuple[int, ...] = (64,)
    labels: list[str] | None = None  # classifiers
    target_mean: float = 0.0  # regressors
    target_std: float = 1.0
    input_mean: list[float] | None = None  # standardisation fitted on the training split
    input_std: list[float] | None = None

    def _expected(self) -> dict[str, Any]:
        return {"type": "array", "shape": list(self.item_shapes[0]),
                "also_accepted": [list(s) for s in self.item_shapes[1:]],
                "range": list(self.value_range) if self.value_range else None}

    def _diagnose(self, value: Any) -> InvalidRequest:
        """Name what is wrong with an input that did not convert to a tensor of an accepted shape."""
        shape = _nested_shape(value)
        if isinstance(value, list) and shape is None and value and isinstance(value[0], list):
            first = _nested_shape(value[0])
            if first in self.item_shapes:  # a batch with one bad row: name it
                for index, row in enumerate(value):
                    if _nested_shape(row) != first:
                        return _bad_input(f"Expected numbers of shape {list(first)}", self._expected(), index)
        got = list(shape) if shape is not None else "a ragged or non-numeric value"
        return _bad_input(f"Expected numbers of shape {list(self.item_shapes[0])}, got {got}", self._expected())

    def prepare(self, value: Any) -> tuple[bool, list[Hashable], torch.Tensor]:
        """One item or a batch of numbers as a (N, features) tensor; each row's bytes are its cache key."""
        # One tensor for the whole request: checking item by item costs more than the model itself.
        try:
            x = torch.tensor(value, dtype=torch.float32)
        except (TypeError, ValueError, RuntimeError):
            raise self._diagnose(value) from None
        shape = tuple(x.shape)
        if shape in self.item_shapes:
            batch, x = False, x.unsqueeze(0)
        elif len(shape) >= 2 and shape[1:] in self.item_shapes and shape[0] > 0:
            batch = True
        else:
            raise self._diagnose(value)
        flat = x.reshape(len(x), -1)
        bad = ~torch.isfinite(flat)
        if self.value_range is not None:
            bad |= (flat < self.value_range[0]) | (flat > self.value_range[1])
        rows = bad.any(dim=1)
        if bool(rows.any()):
            index = int(rows.nonzero()[0]) if batch else None
            limits = f"finite and within [{self.value_range[0]:g}, {self.value_range[1]:g}]" \
                if self.value_range else "finite"
            raise _bad_input(f"Values must be {limits}", self._expected(), index)
        keys = [row.tobytes() for row in flat.numpy()]
        return batch, keys, flat

    def predict(self, payload: torch.Tensor, indices: list[int], details: bool,
                options: dict[str, Any]) -> list[dict[str, Any]]:
        x = payload[indices].reshape(len(indices), *self.model_shape) * self.scale
        if self.input_mean is not None:
            x = (x - torch.tensor(self.input_mean)) / torch.tensor(self.input_std)
        with torch.inference_mode():
            out = self.module(x.to(next(self.module.parameters()).device)).float().cpu()
        if self.labels is None:
            values = (out.reshape(-1) * self.target_std + self.target_mean).tolist()
            return [{"prediction": round(v, 4), "confidence": None} for v in values]
        probs = torch.softmax(out, dim=-1)
        confidence, best = probs.max(dim=-1)
        labels = [int(label) if label.isdigit() else label for label in self.labels]
        rows = [{"prediction": labels[b], "confidence": round(c, 4)}
                for b, c in zip(best.tolist(), confidence.tolist(), strict=True)]
        if details:
            for row, p in zip(rows, probs.tolist(), strict=True):
                row["probabilities"] = {name: round(v, 4) for name, v in zip(self.labels, p, strict=True)}
        return rows


@dataclass
class CharLMServed(TextModelMixin, ServedModel):
    """A character-level transformer language model: continues the input text."""

    module: torch.nn.Module | None = None
    vocab: CharVocab | None = None

    def check_text(self, item: Any, index: int | None) -> str:
        text = super().check_text(item, index)
        unknown = sorted({ch for ch in text if ch not in self.vocab.index})
        if unknown:
            raise _bad_input(f"Characters the model does not know: {''.join(unknown)!r}",
                             {"type": "string", "alphabet": "".join(self.vocab.chars)}, index)
        return text

    def predict(self, payload: list[str], indices: list[int], details: bool,
                options: dict[str, Any]) -> list[dict[str, Any]]:
        length = int(options.get("max_length", 40))
        if not 1 <= length <= MAX_GENERATED_CHARS:
            raise InvalidRequest("Invalid option", {"field": "options.max_length",
                                                    "message": f"Must be between 1 and {MAX_GENERATED_CHARS}"})
        device = next(self.module.parameters()).device
        rows = []
        with torch.inference_mode():
            for text in (payload[i] for i in indices):
                ids = torch.tensor(self.vocab.encode(text), device=device)
                generated, probabilities = [], []
                for _ in range(length):  # greedy decoding: the same input always gives the same text
                    logits = self.module(ids[-self.module.seq_len:].unsqueeze(0))[0, -1].float()
                    probs = torch.softmax(logits, dim=-1)
                    nxt = int(probs.argmax())
                    generated.append(nxt)
                    probabilities.append(float(probs[nxt]))
                    ids = torch.cat([ids, torch.tensor([nxt], device=device)])
                row = {"prediction": self.vocab.decode(generated),
                       "confidence": round(sum(probabilities) / len(probabilities), 4)}
                if details and len(text) > 1:
                    row["input_perplexity"] = round(self._perplexity(text, device), 4)
                rows.append(row)
        return rows

    def _perplexity(self, text: str, device: torch.device) -> float:
        ids = torch.tensor(self.vocab.encode(text[-(self.module.seq_len + 1):]), device=device)
        logits = self.module(ids[:-1].unsqueeze(0))[0].float()
        loss = torch.nn.functional.cross_entropy(logits, ids[1:])
        return math.exp(float(loss))
