"""transformer_training: a causal character-level Transformer language model on user or shipped text."""

from __future__ import annotations

import math
from typing import Any

import torch
from marshmallow import ValidationError, fields, validate, validates_schema

from ...ai.datasets import char_lm_split, load_corpus, min_text_length
from ...ai.networks import CharTransformer, count_parameters, save_model
from ...ai.training import evaluate, fit, rounded
from ..context import TaskContext, TaskOutcome
from ..registry import TaskType
from .common import ServableModelConfig

MAX_TEXT_CHARS = 200_000
SAMPLE_CHARS = 120


class Config(ServableModelConfig):
    """Configuration of a character-level language-model training run."""

    text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=MAX_TEXT_CHARS),
                         metadata={"description": "Training text (default: the English prose corpus shipped "
                                                  "with the agent); split 80/10/10 into train/validation/test"})
    epochs = fields.Integer(load_default=20, validate=validate.Range(1, 1000),
                            metadata={"description": "Passes over the training windows"})
    batch_size = fields.Integer(load_default=16, validate=validate.Range(1, 512),
                                metadata={"description": "Windows per optimisation step"})
    learning_rate = fields.Float(load_default=0.003, validate=validate.Range(1e-6, 1.0),
                                 metadata={"description": "AdamW learning rate"})
    d_model = fields.Integer(load_default=64, validate=validate.Range(8, 512),
                             metadata={"description": "Embedding width (a multiple of nhead)"})
    nhead = fields.Integer(load_default=4, validate=validate.Range(1, 16),
                           metadata={"description": "Attention heads"})
    num_layers = fields.Integer(load_default=2, validate=validate.Range(1, 8),
                                metadata={"description": "Transformer encoder layers"})
    seq_len = fields.Integer(load_default=64, validate=validate.Range(8, 256),
                             metadata={"description": "Context length in characters"})
    dropout = fields.Float(load_default=0.2, validate=validate.Range(0.0, 0.5),
                           metadata={"description": "Dropout inside the encoder layers"})
    seed = fields.Integer(load_default=0, validate=validate.Range(0, 2**31 - 1),
                          metadata={"description": "Seed for initialisation, dropout, shuffling and sampling"})

    @validates_schema
    def _check_shapes(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["d_model"] % data["nhead"]:
            raise ValidationError("d_model must be a multiple of nhead", field_name="nhead")
        needed = min_text_length(data["seq_len"])
        if data["text"] is not None and len(data["text"]) < needed:
            raise ValidationError(f"Text must have at least {needed} characters for seq_len "
                                  f"{data['seq_len']}", field_name="text")


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Train the language model, report held-out loss, accuracy and perplexity, save model and vocabulary."""
    seed = config["seed"]
    torch.manual_seed(seed)
    device = torch.device(ctx.device)
    ctx.progress(0.0, {"phase": "loading text"})
    text = load_corpus(config["text"])
    vocab, splits = char_lm_split(text, config["seq_len"])
    data = {name: (x.to(device), y.to(device)) for name, (x, y) in splits.items()}
    baseline = math.log(len(vocab))  # the loss of a uniform guess over the vocabulary
    ctx.check()

    params = {"vocab_size": len(vocab), "d_model": config["d_model"], "nhead": config["nhead"],
              "num_layers": config["num_layers"], "seq_len": config["seq_len"], "dropout": config["dropout"]}
    model = CharTransformer(**params).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["learning_rate"], weight_decay=0.01)
    sizes = {name: int(y.numel()) for name, (_, y) in splits.items()}
    ctx.progress(1.0, {"phase": "training", "vocab_size": len(vocab), "tokens": sizes})
    # The config (with the full text) is the fingerprint, so a checkpoint never resumes onto other text.
    fitted = fit(ctx, model, optimizer, data["train"], data["validation"], epochs=config["epochs"],
                 batch_size=config["batch_size"], seed=seed, fingerprint=dict(config), progress_end=95.0,
                 extra_metrics=lambda tr, val, acc: {"perplexity": rounded(math.exp(val))})

    test_loss, test_acc = evaluate(model, data["test"], 256, ctx)
    prompt_ids = splits["test"][0][0]
    sample_ids = model.generate(prompt_ids.to(device), SAMPLE_CHARS,
                                generator=torch.Generator().manual_seed(seed))
    spec = {"architecture": "char_transformer", "params": params, "vocab": vocab.chars,
            "task_type": ctx.task_type, "task_id": ctx.task_id, "test_loss": rounded(test_loss),
            "test_accuracy": rounded(test_acc)}
    path = save_model(model, spec, ctx.artifact_path("model.pt"))
    last = fitted.history[-1]
    result = {
        "text_source": "config" if config["text"] else "shipped corpus",
        "text_chars": len(text),
        "vocab_size": len(vocab),
        "tokens": sizes,
        "parameters": count_parameters(model),
        "epochs": config["epochs"],
        "uniform_baseline_loss": rounded(baseline),
        "final_training_loss": last["training_loss"],
        "final_validation_loss": last["validation_loss"],
        "validation_accuracy": last["accuracy"],
        "validation_perplexity": last["perplexity"],
        "test_loss": rounded(test_loss),
        "test_accuracy": rounded(test_acc),
        "test_perplexity": rounded(math.exp(test_loss)),
        "learned": bool(test_loss < 0.75 * baseline),
        "sample_prompt": vocab.decode(prompt_ids.tolist()),
        "sample": vocab.decode(sample_ids),
        "training_seconds": rounded(fitted.seconds, 3),
        "model_path": str(path),
        "resumed_from_epoch": fitted.resumed_from_epoch,
    }
    ctx.progress(100.0, {"phase": "done", "test_perplexity": result["test_perplexity"]})
    ai_result = {"final_loss": last["training_loss"], "accuracy": rounded(test_acc),
                 "perplexity": result["test_perplexity"], "epochs": config["epochs"]}
    return TaskOutcome(result=result, ai_result=ai_result, history=fitted.history)


TASK_TYPE = TaskType(
    name="transformer_training",
    run=run,
    schema=Config,
    description="Train a causal character-level Transformer language model on given or shipped text, with "
                "held-out validation/test loss, next-character accuracy and perplexity; saves model and vocab",
    ai_workload=True,
    training=True,
    work_units=lambda c: float(c["epochs"]),
    default_estimate_seconds=30.0,
)
