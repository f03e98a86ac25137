"""Schemas for AI operations: capabilities, training status, models and inference."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ModelSchema(Schema):
    """A registered model."""

    name = fields.String()
    type = fields.String(metadata={"description": "nlp, vision or tabular"})
    status = fields.String(metadata={"description": "loading, loaded, training or failed"})
    size = fields.String()
    accuracy = fields.Float(allow_none=True, metadata={"description": "Held-out metric named by `metric`"})
    metric = fields.String(allow_none=True)
    version = fields.Integer()
    parameters = fields.Integer()
    source = fields.String(metadata={"description": "builtin, or the id of the task that trained it"})
    input = fields.Dict()
    description = fields.String()
    error = fields.String(allow_none=True)


class ModelListSchema(Schema):
    """GET /api/v4/ai/models."""

    models = fields.List(fields.Nested(ModelSchema))


class ModelDeletedSchema(Schema):
    """DELETE /api/v4/ai/models/<name>."""

    success = fields.Boolean(dump_default=True)
    model = fields.String()
    deleted = fields.Boolean()


class AICapabilitiesSchema(Schema):
    """GET /api/v3/ai/capabilities."""

    models_loaded = fields.Integer()
    gpu_available = fields.Boolean()
    training_engine_active = fields.Boolean()
    inference_engine_active = fields.Boolean()
    active_training_sessions = fields.Integer()
    model_types = fields.List(fields.String())
    total_model_size = fields.Integer(metadata={"description": "Parameters across loaded models"})
    available_models = fields.List(fields.Nested(ModelSchema))
    training_capabilities = fields.List(fields.String())


class TrainingStatusSchema(Schema):
    """GET /api/training."""

    models_training = fields.Integer()
    total_models = fields.Integer()
    training_active = fields.Boolean()
    gpu_available = fields.Boolean()
    training_capabilities = fields.List(fields.String())
    advanced_training_enabled = fields.Boolean()


class InferenceOptionsSchema(Schema):
    """Options of an inference request."""

    return_confidence = fields.Boolean(load_default=True)
    return_details = fields.Boolean(load_default=False)
    max_length = fields.Integer(validate=validate.Range(1, 200),
                                metadata={"description": "Characters to generate (transformer)"})


class InferenceRequestSchema(Schema):
    """POST /api/ai/inference body."""

    model = fields.String(required=True, validate=validate.Length(min=1, max=64))
    input = fields.Raw(required=True, allow_none=False,
                       metadata={"description": "One input (text, or numbers) or a list of inputs for a batch"})
    options = fields.Nested(InferenceOptionsSchema, load_default=dict)
