"""Served models: one adapter per kind of model, turning validated API input into predictions."""

from __future__ import annotations

import math
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

    def check_item(self, item: Any, index: int | None) -> Any:
        """Validate and convert one input item; raise InvalidRequest naming the field."""
        raise NotImplementedError

    def is_batch(self, value: Any) -> bool:
        """Whether the request's input is a list of items rather than one item."""
        raise NotImplementedError

    def predict(self, items: list[Any], details: bool, options: dict[str, Any]) -> list[dict[str, Any]]:
        """Predictions for already-checked items, in order."""
        raise NotImplementedError

    @property
    def size(self) -> str:
        """small / medium / large by parameter count (VADER counts its lexicon entries)."""
        return "small" if self.parameters < 50_000 else "medium" if self.parameters < 1_000_000 else "large"


class TextModelMixin:
    """Input is a string, or a list of strings for a batch."""

    def is_batch(self, value: Any) -> bool:
        return isinstance(value, list)

    def check_item(self, item: Any, index: int | None) -> str:
        expected = {"type": "string", "max_length": MAX_TEXT_CHARS}
        if not isinstance(item, str) or not item.strip():
            raise _bad_input("Expected non-empty text", expected, index)
        if len(item) > MAX_TEXT_CHARS:
            raise _bad_input(f"Text longer than {MAX_TEXT_CHARS} characters", expected, index)
        return item


@dataclass
class SentimentServed(TextModelMixin, ServedModel):
    """VADER: a lexicon and rule model; it has no weights to train."""

    model: SentimentModel = field(default_factory=SentimentModel)

    def predict(self, items: list[str], details: bool, options: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for text in items:
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

    def is_batch(self, value: Any) -> bool:
        shape = _nested_shape(value)
        return shape is not None and any(len(shape) == len(s) + 1 and shape[1:] == s for s in self.item_shapes)

    def check_item(self, item: Any, index: int | None) -> list:
        expected = {"type": "array", "shape": list(self.item_shapes[0]),
                    "also_accepted": [list(s) for s in self.item_shapes[1:]],
                    "range": list(self.value_range) if self.value_range else None}
        shape = _nested_shape(item)
        if shape not in self.item_shapes:
            raise _bad_input(f"Expected numbers of shape {list(self.item_shapes[0])}, got "
                             f"{list(shape) if shape is not None else 'a ragged or non-numeric value'}",
                             expected, index)
        if self.value_range is not None:
            low, high = self.value_range
            flat = torch.tensor(item, dtype=torch.float32).flatten()
            if bool((flat < low).any() or (flat > high).any()):
                raise _bad_input(f"Values must lie in [{low:g}, {high:g}]", expected, index)
        return item

    def predict(self, items: list[Any], details: bool, options: dict[str, Any]) -> list[dict[str, Any]]:
        x = torch.tensor(items, dtype=torch.float32).reshape(len(items), *self.model_shape) * self.scale
        if self.input_mean is not None:
            x = (x - torch.tensor(self.input_mean)) / torch.tensor(self.input_std)
        with torch.inference_mode():
            out = self.module(x.to(next(self.module.parameters()).device)).float().cpu()
        if self.labels is None:
            values = (out.reshape(-1) * self.target_std + self.target_mean).tolist()
            return [{"prediction": round(v, 4), "confidence": None} for v in values]
        probs = torch.softmax(out, dim=-1)
        best = probs.argmax(-1).tolist()
        rows = []
        for i, label in enumerate(best):
            row = {"prediction": int(self.labels[label]) if self.labels[label].isdigit() else self.labels[label],
                   "confidence": round(float(probs[i, label]), 4)}
            if details:
                row["probabilities"] = {name: round(float(p), 4) for name, p in zip(self.labels, probs[i],
                                                                                       strict=True)}
            rows.append(row)
        return rows


@dataclass
class CharLMServed(TextModelMixin, ServedModel):
    """A character-level transformer language model: continues the input text."""

    module: torch.nn.Module | None = None
    vocab: CharVocab | None = None

    def check_item(self, item: Any, index: int | None) -> str:
        text = super().check_item(item, index)
        unknown = sorted({ch for ch in text if ch not in self.vocab.index})
        if unknown:
            raise _bad_input(f"Characters the model does not know: {''.join(unknown)!r}",
                             {"type": "string", "alphabet": "".join(self.vocab.chars)}, index)
        return text

    def predict(self, items: list[str], details: bool, options: dict[str, Any]) -> list[dict[str, Any]]:
        length = int(options.get("max_length", 40))
        if not 1 <= length <= MAX_GENERATED_CHARS:
            raise InvalidRequest("Invalid option", {"field": "options.max_length",
                                                    "message": f"Must be between 1 and {MAX_GENERATED_CHARS}"})
        device = next(self.module.parameters()).device
        rows = []
        with torch.inference_mode():
            for text in items:
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
