"""data_preprocessing: fit a scikit-learn imputation/scaling/one-hot (+ optional PCA) pipeline and save it.

The tabular input helpers here (records and shipped datasets to a typed Table) are shared with the
data_processing runner. The saved pipeline is plain scikit-learn: it transforms a 2-D array whose
columns are result["input_columns"] in that order, missing values as NaN (`records_matrix` builds one).
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from marshmallow import Schema, ValidationError, fields, post_load, validates_schema
from marshmallow.validate import Length, OneOf, Range
from sklearn import datasets
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ..context import TaskContext, TaskOutcome
from ..registry import TaskType

MAX_ROWS = 100_000
MAX_COLUMNS = 500
MAX_CELLS = 2_000_000
MAX_OUTPUT_CELLS = 10_000_000  # 80 MB of float64 after one-hot encoding
DATASETS = ("iris", "wine", "breast_cancer", "diabetes", "digits")
# (rows, features) of the shipped datasets, so PCA sizes are checked without loading them.
DATASET_SHAPES = {"iris": (150, 4), "wine": (178, 13), "breast_cancer": (569, 30),
                  "diabetes": (442, 10), "digits": (1797, 64)}


@dataclass
class Table:
    """Columns by name: numeric ones as float arrays (NaN = missing), the rest as object arrays (None)."""

    columns: list[str]
    numeric: dict[str, np.ndarray]
    categorical: dict[str, np.ndarray]
    n_rows: int

    def take(self, mask: np.ndarray) -> Table:
        """The rows where mask is true."""
        return Table(self.columns, {k: v[mask] for k, v in self.numeric.items()},
                     {k: v[mask] for k, v in self.categorical.items()}, int(mask.sum()))


# -- tabular input (shared with data_processing) ---------------------------------------------------

def validate_records(records: list[dict[str, Any]]) -> None:
    """Reject records whose values are not scalars, or that have too many columns or cells."""
    columns: set[str] = set()
    for index, record in enumerate(records):
        for key, value in record.items():
            if not isinstance(key, str) or not key:
                raise ValidationError(f"Record {index}: keys must be non-empty strings.")
            if value is not None and not isinstance(value, str | int | float):
                raise ValidationError(f"Record {index}, {key!r}: values must be strings, numbers, "
                                      "booleans or null.")
            columns.add(key)
        if len(columns) > MAX_COLUMNS:
            raise ValidationError(f"At most {MAX_COLUMNS} distinct columns.")
    if len(records) * len(columns) > MAX_CELLS:
        raise ValidationError(f"At most {MAX_CELLS} cells (rows x columns).")


def exactly_one_source(data: dict[str, Any], names: tuple[str, ...]) -> None:
    """Raise naming the second of `names` that is set: only one input source is allowed."""
    given = [name for name in names if data.get(name) is not None]
    if len(given) > 1:
        raise ValidationError(f"Give only one of {', '.join(names)} (got {', '.join(given)}).",
                              field_name=given[1])


def is_missing(value: Any) -> bool:
    """Null, empty string, NaN and +/-inf all count as missing."""
    return value is None or value == "" or (isinstance(value, float) and not math.isfinite(value))


def as_text(value: Any) -> str:
    """A categorical value as text; booleans in their JSON spelling so filters can match them."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def column_from_values(values: list[Any]) -> tuple[bool, np.ndarray]:
    """(is_numeric, array): numeric when every present value is a number (bool is not a number)."""
    present = [v for v in values if not is_missing(v)]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return True, np.array([math.nan if is_missing(v) else float(v) for v in values], dtype=np.float64)
    return False, np.array([None if is_missing(v) else as_text(v) for v in values], dtype=object)


def table_from_records(records: list[dict[str, Any]], ctx: TaskContext | None = None,
                       percent: tuple[float, float] = (0.0, 0.0)) -> Table:
    """A Table from a list of dicts; columns are the union of keys in first-seen order, typed one by one."""
    columns = list(dict.fromkeys(key for record in records for key in record))
    table = Table(columns, {}, {}, len(records))
    for index, name in enumerate(columns):
        if ctx is not None:  # one column at a time, so cancel is noticed between columns
            ctx.check()
            ctx.progress(percent[0] + (percent[1] - percent[0]) * index / len(columns),
                         {"stage": "typing columns", "column": index + 1, "columns": len(columns)})
        is_numeric, array = column_from_values([record.get(name) for record in records])
        (table.numeric if is_numeric else table.categorical)[name] = array
    return table


def table_from_dataset(name: str, with_target: bool = True) -> Table:
    """A scikit-learn dataset as a Table; its target becomes a `target` column (class names if classified)."""
    bunch = getattr(datasets, f"load_{name}")()
    data = bunch.data.astype(np.float64)
    names = [str(n) for n in bunch.feature_names]
    table = Table(list(names), {n: data[:, i].copy() for i, n in enumerate(names)}, {}, len(data))
    if with_target:
        table.columns.append("target")
        classes = getattr(bunch, "target_names", None)
        if classes is None:
            table.numeric["target"] = bunch.target.astype(np.float64)
        else:
            table.categorical["target"] = np.array([str(classes[int(t)]) for t in bunch.target], dtype=object)
    return table


# -- the pipeline ---------------------------------------------------------------------------------

def records_matrix(records: list[dict[str, Any]], columns: list[str],
                   categorical: Collection[str]) -> np.ndarray:
    """The 2-D array the saved pipeline transforms: `columns` in order, categorical as text, NaN missing."""
    def cell(value: Any, name: str) -> Any:
        if is_missing(value):
            return math.nan
        return as_text(value) if name in categorical else float(value)

    return np.array([[cell(r.get(c), c) for c in columns] for r in records], dtype=object)


def output_width(table: Table, features: list[str], max_categories: int) -> int:
    """Encoded width: one column per numeric feature, min(distinct, max_categories) per categorical one."""
    width = 0
    for name in features:
        if name in table.numeric:
            width += 1
        else:
            width += min(max_categories, len({v for v in table.categorical[name] if v is not None}))
    return width


def feature_columns(table: Table, target: str | None) -> tuple[list[str], list[str], list[str]]:
    """(numeric, categorical, dropped): the target and all-missing columns are left out."""
    numeric, categorical, dropped = [], [], []
    for name in table.columns:
        if name == target:
            continue
        if name in table.numeric:
            (numeric if not np.isnan(table.numeric[name]).all() else dropped).append(name)
        else:
            categorical.append(name)
    return numeric, categorical, dropped


def make_column_transformer(numeric: list[int], categorical: list[int], max_categories: int
                            ) -> ColumnTransformer:
    """Median-impute + standardise numeric columns; most-frequent-impute + one-hot categorical ones."""
    branches = []
    if numeric:
        branches.append(("numeric", Pipeline([("impute", SimpleImputer(strategy="median")),
                                              ("scale", StandardScaler())]), numeric))
    if categorical:
        # Unknown categories at transform time encode as all zeros rather than failing.
        encoder = OneHotEncoder(handle_unknown="ignore", max_categories=max_categories, sparse_output=False)
        branches.append(("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                                  ("encode", encoder)]), categorical))
    return ColumnTransformer(branches, remainder="drop", sparse_threshold=0.0)


def make_pca(components: int | float, seed: int) -> PCA:
    """PCA keeping `components` axes (int) or that share of the variance (float in (0, 1))."""
    if isinstance(components, float):
        return PCA(n_components=components, svd_solver="full")
    return PCA(n_components=components, random_state=seed)


def _validate_pca(value: Any) -> None:
    if isinstance(value, bool) or not (
            (isinstance(value, int) and 1 <= value <= 1000) or (isinstance(value, float) and 0 < value < 1)):
        raise ValidationError("Must be an integer 1-1000 or a variance ratio strictly between 0 and 1.")


class Config(Schema):
    """data_preprocessing configuration: records or a dataset, the target to keep out and optional PCA."""

    records = fields.List(fields.Dict(), load_default=None, allow_none=True,
                          validate=[Length(2, MAX_ROWS), validate_records],
                          metadata={"description": f"Inline rows (list of objects, 2-{MAX_ROWS})"})
    dataset = fields.String(load_default=None, allow_none=True, validate=OneOf(DATASETS),
                            metadata={"description": "scikit-learn dataset; wine when records is not given"})
    target = fields.String(load_default=None, allow_none=True, validate=Length(1, 200),
                           metadata={"description": "Records column to keep out of the features"})
    pca_components = fields.Raw(load_default=None, allow_none=True, validate=_validate_pca,
                                metadata={"description": "PCA axes (int) or variance share (0-1), or null"})
    max_categories = fields.Integer(load_default=20, validate=Range(2, 50),
                                    metadata={"description": "Most one-hot columns per categorical column"})
    preview_rows = fields.Integer(load_default=5, validate=Range(0, 20),
                                  metadata={"description": "Transformed rows returned in the result"})
    seed = fields.Integer(load_default=0, validate=Range(0, 2**31 - 1),
                          metadata={"description": "Random seed (PCA)"})

    @validates_schema
    def _check(self, data: dict[str, Any], **_: Any) -> None:
        exactly_one_source(data, ("records", "dataset"))
        pca, target = data.get("pca_components"), data.get("target")
        if data.get("records") is None:
            if target is not None:
                raise ValidationError("Only for records: a dataset's target is always left out.", "target")
            rows, width = DATASET_SHAPES[data.get("dataset") or "wine"]
        else:
            table = table_from_records(data["records"])
            if target is not None and target not in table.columns:
                raise ValidationError(f"No column {target!r} in the records.", "target")
            numeric, categorical, _ = feature_columns(table, target)
            if not numeric + categorical:
                raise ValidationError("No feature column with any value.", "records")
            rows = table.n_rows
            width = output_width(table, numeric + categorical, data.get("max_categories", 20))
            if rows * width > MAX_OUTPUT_CELLS:
                raise ValidationError(f"Encoded output over {MAX_OUTPUT_CELLS} cells.", "records")
        if isinstance(pca, int) and pca > min(rows, width):
            raise ValidationError(f"At most {min(rows, width)} (rows and encoded columns).", "pca_components")

    @post_load
    def _default_source(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if data["records"] is None and data["dataset"] is None:
            data["dataset"] = "wine"
        return data


def _r(value: float) -> float:
    return round(float(value), 6)


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Fit the preprocessing pipeline on the input, report what it did and save it with joblib."""
    started = time.perf_counter()
    ctx.progress(0, {"stage": "loading"})
    if config["records"] is not None:
        table, target = table_from_records(config["records"], ctx, (0, 20)), config["target"]
    else:
        table, target = table_from_dataset(config["dataset"], with_target=False), "target"
    ctx.check()
    numeric, categorical, dropped = feature_columns(table, target)
    columns = [c for c in table.columns if c in numeric or c in categorical]
    missing = {c: int(np.isnan(table.numeric[c]).sum()) if c in numeric
               else int(sum(v is None for v in table.categorical[c])) for c in columns}
    ctx.progress(20, {"stage": "columns detected", "numeric": len(numeric), "categorical": len(categorical)})

    ctx.check()
    matrix = np.empty((table.n_rows, len(columns)), dtype=object if categorical else np.float64)
    for index, name in enumerate(columns):
        ctx.check()
        if name in numeric:
            matrix[:, index] = table.numeric[name]
        else:  # SimpleImputer looks for NaN, not None, in object columns
            matrix[:, index] = [math.nan if v is None else v for v in table.categorical[name]]
    transformer = make_column_transformer([columns.index(c) for c in numeric],
                                          [columns.index(c) for c in categorical], config["max_categories"])
    ctx.check()
    output = transformer.fit_transform(matrix)
    ctx.progress(60, {"stage": "imputed, scaled and encoded", "columns": int(output.shape[1])})

    names = list(numeric)
    imputed: dict[str, Any] = {}
    if numeric:
        fills = transformer.named_transformers_["numeric"].named_steps["impute"].statistics_
        imputed.update({c: _r(f) for c, f in zip(numeric, fills, strict=True) if missing[c]})
    if categorical:
        branch = transformer.named_transformers_["categorical"]
        fills = branch.named_steps["impute"].statistics_
        imputed.update({c: str(f) for c, f in zip(categorical, fills, strict=True) if missing[c]})
        names += [str(n) for n in branch.named_steps["encode"].get_feature_names_out(categorical)]
    scaled = output[:, :len(numeric)]
    check = {"max_abs_mean": _r(np.abs(scaled.mean(axis=0)).max()), "min_std": _r(scaled.std(axis=0).min()),
             "max_std": _r(scaled.std(axis=0).max())} if numeric else None

    steps: list[tuple[str, Any]] = [("columns", transformer)]
    pca_report = None
    if config["pca_components"] is not None:
        ctx.check()
        pca = make_pca(config["pca_components"], config["seed"])
        output = pca.fit_transform(output)
        steps.append(("pca", pca))
        ratios = [_r(x) for x in pca.explained_variance_ratio_]
        pca_report = {"n_components": int(pca.n_components_), "explained_variance_ratio": ratios,
                      "total_explained_variance": _r(sum(pca.explained_variance_ratio_))}
        ctx.progress(80, {"stage": "pca", "components": int(pca.n_components_)})

    ctx.check()
    # Every step is already fitted, so the pipeline is assembled rather than fitted a second time.
    pipeline = Pipeline(steps)
    path = ctx.artifact_path("pipeline.joblib")
    joblib.dump(pipeline, path)
    ctx.progress(95, {"stage": "saved"})
    result = {
        "source": "records" if config["records"] is not None else config["dataset"],
        "input_shape": [table.n_rows, len(table.columns)],
        "output_shape": [int(output.shape[0]), int(output.shape[1])],
        "input_columns": columns,
        "numeric_columns": numeric,
        "categorical_columns": categorical,
        "dropped_columns": dropped,
        "target": target,
        "missing_values": missing,
        "imputed_values": {c: {"count": missing[c], "fill_value": v} for c, v in imputed.items()},
        "encoded_feature_names": names[:1000],
        "scaled_numeric_check": check,
        "pca": pca_report,
        "preview": [[_r(x) for x in row] for row in output[:config["preview_rows"]]],
        "pipeline_path": str(path),
        "elapsed_seconds": round(time.perf_counter() - started, 4),
    }
    ctx.progress(100, {"stage": "done", "output_columns": int(output.shape[1])})
    return TaskOutcome(result=result)


TASK_TYPE = TaskType(
    name="data_preprocessing",
    run=run,
    schema=Config,
    description="Fit and save a scikit-learn pipeline: impute, scale, one-hot encode and optionally PCA",
    ai_workload=False,
    training=False,
    work_units=lambda c: max(1.0, len(c.get("records") or []) / 10_000),
    default_estimate_seconds=5.0,
)
