"""Config keys shared by runners."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

MODEL_NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


class ServableModelConfig(Schema):
    """Config of a runner whose trained model the model registry serves."""

    model_name = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(MODEL_NAME_PATTERN),
                               metadata={"description": "Name to serve the trained model under "
                                                        "(default: the task id)"})
