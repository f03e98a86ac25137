"""Model registry: built-in models (trained in the background at first start) and task-trained models."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from flask import Flask

from ..errors import Conflict, ModelNotFound, ServiceUnavailable
from ..tasks.context import TaskInterrupted
from .datasets import DIGITS_CLASSES, CharVocab
from .networks import count_parameters, load_model
from .served import CharLMServed, SentimentServed, ServedModel, TensorServed

log = logging.getLogger(__name__)

DIGIT_LABELS = [str(d) for d in range(DIGITS_CLASSES)]
DIGIT_INPUT = {"type": "array", "shape": [64], "also_accepted": [[8, 8]], "range": [0, 16],
               "description": "An 8x8 handwritten digit, row-major pixel intensities 0-16 (scikit-learn digits)"}
# Task types whose runs leave a servable model (model.pt + sidecar) behind.
SERVABLE_TASK_TYPES = ("neural_network_training", "cnn_training", "transformer_training")
INDEX_FILE = "registry.json"


class ModelEntry:
    """A registry slot: status (loading, loaded, training, failed) and, once loaded, the served model."""

    def __init__(self, name: str, model_type: str, source: str, path: Path | None) -> None:
        self.name = name
        self.type = model_type
        self.source = source
        self.path = path
        self.status = "loading"
        self.error: str | None = None
        self.served: ServedModel | None = None
        self.version = 0


class ModelRegistry:
    """Holds every servable model; inference reads entries, loading and training replace them whole."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.models_dir = Path(app.instance_path) / "models"
        self.device = "cpu"
        self._lock = threading.RLock()
        self._entries: dict[str, ModelEntry] = {}
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._training_ctx: Any = None
        self.on_change: list[Callable[[str], None]] = []
        self._versions: dict[str, int] = {}

    # -- start-up -------------------------------------------------------------------------------

    def start(self, device: str = "cpu") -> None:
        """Register every model, then load (or first train) the built-ins on a background thread."""
        self.device = device
        self.models_dir.mkdir(parents=True, exist_ok=True)
        builders = self._builtin_builders()  # imports the training code here, not on the loader thread
        with self._lock:
            self._entries["sentiment"] = ModelEntry("sentiment", "nlp", "builtin", None)
            for name, (model_type, _) in builders.items():
                self._entries[name] = ModelEntry(name, model_type, "builtin", self._builtin_path(name))
            for name, folder in self._read_index().items():
                self._entries[name] = ModelEntry(name, "unknown", folder, self.models_dir / folder / "model.pt")
        self._thread = threading.Thread(target=self._load_all, args=(builders,), name="model-registry",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop loading: a built-in in training stops at its next batch (it trains again next start)."""
        self._stopping.set()
        ctx = self._training_ctx
        if ctx is not None:
            ctx.control.interrupt()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until every model finished loading or training (for tests and tools)."""
        return self._ready.wait(timeout)

    def _builtin_path(self, name: str) -> Path:
        return self.models_dir / f"builtin-{name}" / "model.pt"

    def _builtin_builders(self) -> dict[str, tuple[str, Callable[[Any], None]]]:
        from . import builtin_training

        return {
            "classification": ("vision", builtin_training.train_classification),
            "cnn": ("vision", builtin_training.train_cnn),
            "regression": ("tabular", builtin_training.train_regression),
            "transformer": ("nlp", builtin_training.train_transformer),
        }

    def _load_all(self, builders: dict[str, tuple[str, Callable[[Any], None]]]) -> None:
        try:
            self._load_sentiment()
            with self._lock:
                names = [name for name, entry in self._entries.items() if name != "sentiment"]
            for name in names:
                if self._stopping.is_set():
                    break
                entry = self._entries[name]
                try:
                    if entry.source == "builtin" and not entry.path.exists():
                        entry.status = "training"
                        log.info("Training built-in model %s (no weights yet)", name)
                        self._training_ctx = self._builder_context(name)
                        builders[name][1](self._training_ctx)
                        self._training_ctx = None
                    self._install(name, self._load_from_disk(name, entry.path, entry.source))
                except TaskInterrupted:
                    entry.status = "loading"
                    break
                except Exception as exc:  # one broken model must not keep the others from loading
                    log.exception("Model %s could not be loaded", name)
                    entry.status, entry.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            self._ready.set()

    def _builder_context(self, name: str):
        from ..tasks.context import TaskContext

        return TaskContext(f"builtin-{name}", f"builtin-{name}", {}, self.app.instance_path, device=self.device)

    def _load_sentiment(self) -> None:
        served = SentimentServed(
            name="sentiment", type="nlp", version=1, source="builtin", metric=None, accuracy=None,
            parameters=0, input_spec={"type": "string", "max_length": 5000, "description": "Text to score"},
            description="VADER lexicon and rule-based sentiment; scores normalised to sum to 1. No labelled "
                        "held-out set ships with the agent, so no accuracy is claimed.",
        )
        lexicon = served.model.load().lexicon
        served.parameters = len(lexicon)
        self._install("sentiment", served)

    # -- loading from disk ----------------------------------------------------------------------

    def _load_from_disk(self, name: str, path: Path, source: str) -> ServedModel:
        module, spec = load_model(path, torch.device(self.device))
        common = {"name": name, "version": 1, "source": source, "parameters": count_parameters(module),
                  "extra": {"trained_by": spec.get("task_id"), "path": str(path)}}
        architecture = spec["architecture"]
        if architecture == "char_transformer":
            return CharLMServed(type="nlp", metric="next_char_accuracy", accuracy=spec.get("test_accuracy"),
                                input_spec={"type": "string", "alphabet": "".join(spec["vocab"]),
                                            "description": "Text to continue (options.max_length characters)"},
                                description="Character-level nn.TransformerEncoder language model; greedy "
                                            "continuation of the input text",
                                module=module, vocab=CharVocab(spec["vocab"]), **common)
        if spec.get("task") == "regression":
            return TensorServed(type="tabular", metric="r2", accuracy=spec.get("test_r2"),
                                input_spec={"type": "array", "shape": [10], "features": spec["feature_names"],
                                            "description": "scikit-learn diabetes features (as load_diabetes "
                                                           "gives them: mean-centred and scaled)"},
                                description="Torch MLP regressor of diabetes progression one year on; metric is "
                                            "held-out R²",
                                module=module, item_shapes=((10,),), model_shape=(10,),
                                target_mean=spec["target_mean"], target_std=spec["target_std"],
                                input_mean=spec.get("feature_mean"), input_std=spec.get("feature_std"), **common)
        data = spec.get("data", {})
        if data.get("name") != "digits":
            n_features = data.get("n_features", spec["params"].get("input_dim"))
            return TensorServed(type="tabular", metric="accuracy", accuracy=spec.get("test_accuracy"),
                                input_spec={"type": "array", "shape": [n_features],
                                            "description": "Standardised features of the synthetic data set"},
                                description=f"{architecture.upper()} classifier on synthetic data",
                                module=module, item_shapes=((n_features,),), model_shape=(n_features,),
                                labels=[str(i) for i in range(data.get("n_classes", 2))], **common)
        image = architecture == "cnn"
        return TensorServed(type="vision", metric="accuracy", accuracy=spec.get("test_accuracy"),
                            input_spec=DIGIT_INPUT,
                            description=("CNN" if image else "MLP") + " classifier of 8x8 handwritten digits; "
                                        "metric is held-out test accuracy",
                            module=module, item_shapes=((64,), (8, 8)), value_range=(0.0, 16.0), scale=1 / 16.0,
                            model_shape=(1, 8, 8) if image else (64,), labels=DIGIT_LABELS, **common)

    def _install(self, name: str, served: ServedModel) -> None:
        with self._lock:
            entry = self._entries.setdefault(name, ModelEntry(name, served.type, served.source, None))
            self._versions[name] = self._versions.get(name, 0) + 1
            served.version = self._versions[name]
            entry.served, entry.type, entry.status, entry.error = served, served.type, "loaded", None
            entry.version = served.version
        for callback in self.on_change:
            callback(name)

    # -- task-trained models --------------------------------------------------------------------

    def register_task_model(self, task_id: str, task_type: str, result: dict[str, Any] | None,
                            name: str | None = None) -> str | None:
        """Serve the model a finished training task saved, under `name` or its task id."""
        if task_type not in SERVABLE_TASK_TYPES or not result or not result.get("model_path"):
            return None
        name = name or task_id
        path = Path(result["model_path"])
        with self._lock:
            existing = self._entries.get(name)
            if existing is not None and existing.source == "builtin":
                raise Conflict("A built-in model has that name", {"model_name": name})
            self._entries[name] = ModelEntry(name, "unknown", task_id, path)
        try:
            self._install(name, self._load_from_disk(name, path, task_id))
        except Exception as exc:
            log.exception("Model of task %s could not be loaded", task_id)
            self._entries[name].status, self._entries[name].error = "failed", f"{type(exc).__name__}: {exc}"
        self._write_index()
        return name

    def delete(self, name: str) -> dict[str, Any]:
        """Remove a task-trained model and its files; built-ins cannot be deleted."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                raise ModelNotFound(details={"model": name})
            if entry.source == "builtin":
                raise Conflict("Built-in models cannot be deleted", {"model": name})
            del self._entries[name]
            self._versions[name] = self._versions.get(name, 0) + 1
        self._write_index()
        if entry.path is not None and entry.path.parent.parent == self.models_dir:
            shutil.rmtree(entry.path.parent, ignore_errors=True)
        for callback in self.on_change:
            callback(name)
        return {"model": name, "deleted": True}

    def _read_index(self) -> dict[str, str]:
        index = self.models_dir / INDEX_FILE
        if not index.exists():
            return {}
        try:
            return json.loads(index.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            log.warning("Ignoring unreadable model index %s", index)
            return {}

    def _write_index(self) -> None:
        with self._lock:
            data = {name: entry.path.parent.name for name, entry in self._entries.items()
                    if entry.source != "builtin" and entry.path is not None}
        index = self.models_dir / INDEX_FILE
        tmp = index.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(index)

    # -- reading --------------------------------------------------------------------------------

    def entry(self, name: str) -> ModelEntry:
        """The registry slot called `name`; 404 MODEL_NOT_FOUND when there is none."""
        entry = self._entries.get(name)
        if entry is None:
            raise ModelNotFound(details={"model": name, "available": self.names()})
        return entry

    def served(self, name: str) -> ServedModel:
        """A loaded model ready to predict; 503 while it is still loading or training."""
        entry = self.entry(name)
        if entry.status != "loaded" or entry.served is None:
            if entry.status == "failed":
                raise ServiceUnavailable("Model failed to load", {"model": name, "status": entry.status,
                                                                  "reason": entry.error})
            raise ServiceUnavailable("Model is not ready yet", {"model": name, "status": entry.status})
        return entry.served

    def names(self) -> list[str]:
        """Every registered model name."""
        return sorted(self._entries)

    def loaded_count(self) -> int:
        """Models ready to serve."""
        return sum(1 for entry in list(self._entries.values()) if entry.status == "loaded")

    def training_count(self) -> int:
        """Built-in models being trained right now."""
        return sum(1 for entry in list(self._entries.values()) if entry.status == "training")

    def describe(self, name: str) -> dict[str, Any]:
        """A model as the API shows it."""
        entry = self.entry(name)
        served = entry.served
        info: dict[str, Any] = {"name": entry.name, "type": entry.type, "status": entry.status,
                                "source": entry.source, "version": entry.version, "error": entry.error}
        if served is not None:
            info.update({"size": served.size, "accuracy": served.accuracy, "metric": served.metric,
                         "parameters": served.parameters, "input": served.input_spec,
                         "description": served.description, "trained_by": served.extra.get("trained_by")})
        return info

    def describe_all(self) -> list[dict[str, Any]]:
        """Every model as the API shows it."""
        return [self.describe(name) for name in self.names()]


def model_registry() -> ModelRegistry:
    """The running app's model registry; 503 when the agent runs without one."""
    from flask import current_app

    registry = current_app.extensions.get("model_registry")
    if registry is None:
        raise ServiceUnavailable("The AI model registry is not running")
    return registry
