"""data_processing: column statistics, filters and group-by aggregation over records, a CSV file or a dataset.

Missing values are null, NaN, +/-inf and empty strings (CSV cells also "na", "nan", "null", "none",
"n/a"). A column is numeric when every present value is a number (a CSV cell: parses as one); the
rest are categorical and compared as text. Standard deviations are sample ones (ddof=1), quartiles
use linear interpolation (numpy's default). Rows missing a filter's column never match that filter.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections import Counter
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
from marshmallow import Schema, ValidationError, fields, post_load, validates_schema
from marshmallow.validate import Length, OneOf, Range

from ...errors import InvalidRequest
from ..context import TaskContext, TaskOutcome
from ..registry import TaskType
from .data_preprocessing import (
    DATASETS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_ROWS,
    Table,
    as_text,
    exactly_one_source,
    table_from_dataset,
    table_from_records,
    validate_records,
)

MAX_CSV_BYTES = 50 * 1024 * 1024
CSV_MISSING = frozenset({"", "na", "nan", "null", "none", "n/a"})
FILTER_OPS = ("eq", "ne", "gt", "ge", "lt", "le")
AGG_OPS = ("sum", "mean", "min", "max", "count", "median", "std")
READ_CHUNK_ROWS = 5_000
GROUPS_PER_CHECK = 50


def validate_relative_path(value: str) -> None:
    """A path relative to the instance data folder: not absolute, no '..', no NUL."""
    windows = PureWindowsPath(value)
    if "\0" in value or value.startswith(("/", "\\")) or windows.drive or windows.is_absolute():
        raise ValidationError("Must be a path relative to the instance data folder.")
    if ".." in PurePosixPath(value.replace("\\", "/")).parts:
        raise ValidationError("Must not contain '..'.")


def _validate_scalar(value: Any) -> None:
    if not isinstance(value, str | int | float):
        raise ValidationError("Must be a string, number or boolean.")


class FilterSpec(Schema):
    """Keep rows where `column op value` holds."""

    column = fields.String(required=True, validate=Length(1, 200), metadata={"description": "Column name"})
    op = fields.String(required=True, validate=OneOf(FILTER_OPS), metadata={"description": "Comparison"})
    value = fields.Raw(required=True, validate=_validate_scalar, metadata={"description": "Compared value"})


class AggregationSpec(Schema):
    """One aggregate of one column per group."""

    column = fields.String(required=True, validate=Length(1, 200), metadata={"description": "Column name"})
    op = fields.String(required=True, validate=OneOf(AGG_OPS), metadata={"description": "Aggregate"})


class Config(Schema):
    """data_processing configuration: one input source, optional filters, group-by and aggregations."""

    records = fields.List(fields.Dict(), load_default=None, allow_none=True,
                          validate=[Length(1, MAX_ROWS), validate_records],
                          metadata={"description": f"Inline rows (list of objects, <= {MAX_ROWS})"})
    csv_path = fields.String(load_default=None, allow_none=True,
                             validate=[Length(1, 255), validate_relative_path],
                             metadata={"description": "CSV file (header row), relative to <instance>/data/"})
    dataset = fields.String(load_default=None, allow_none=True, validate=OneOf(DATASETS),
                            metadata={"description": "scikit-learn dataset; iris when no source is given"})
    group_by = fields.String(load_default=None, allow_none=True, validate=Length(1, 200),
                             metadata={"description": "Column to group by for the aggregation table"})
    aggregations = fields.List(fields.Nested(AggregationSpec), load_default=None, allow_none=True,
                               validate=Length(1, 50),
                               metadata={"description": "[{column, op}]; default: mean of numeric columns"})
    filters = fields.List(fields.Nested(FilterSpec), load_default=None, allow_none=True,
                          validate=Length(0, 20),
                          metadata={"description": "[{column, op, value}], all must hold, applied first"})
    top_values = fields.Integer(load_default=10, validate=Range(1, 100),
                                metadata={"description": "Most common values listed per categorical column"})
    max_groups = fields.Integer(load_default=100, validate=Range(1, 1000),
                                metadata={"description": "Largest groups returned in the aggregation table"})

    @validates_schema
    def _check(self, data: dict[str, Any], **_: Any) -> None:
        exactly_one_source(data, ("records", "csv_path", "dataset"))
        if data.get("records") is not None:
            # Inline rows are known now, so a bad column reference fails the request, not the task.
            problem = column_problems(data, table_from_records(data["records"]))
            if problem:
                raise ValidationError(_nested(*problem))

    @post_load
    def _default_source(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if data["records"] is None and data["csv_path"] is None and data["dataset"] is None:
            data["dataset"] = "iris"
        return data


def config_error(field: str, message: str) -> InvalidRequest:
    """InvalidRequest naming the field; the message repeats it since a failed task keeps only str(exc)."""
    return InvalidRequest(f"Invalid task configuration: {field}: {message}",
                          {"field": field, "message": message})


def _nested(field: str, message: str) -> dict[Any, Any]:
    """'filters.0.value' -> {'filters': {0: {'value': [message]}}}, marshmallow's shape for nested errors."""
    messages: Any = [message]
    for part in reversed(field.split(".")):
        messages = {int(part) if part.isdigit() else part: messages}
    return messages


def _filter_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def column_problems(config: dict[str, Any], table: Table) -> tuple[str, str] | None:
    """The first (field, message) where the config names a missing column or misuses one; else None."""
    known = set(table.columns)
    if config.get("group_by") is not None and config["group_by"] not in known:
        return "group_by", f"No column {config['group_by']!r}."
    for index, spec in enumerate(config.get("aggregations") or []):
        if spec["column"] not in known:
            return f"aggregations.{index}.column", f"No column {spec['column']!r}."
        if spec["op"] != "count" and spec["column"] not in table.numeric:
            return f"aggregations.{index}.op", f"{spec['op']!r} needs a numeric column; use 'count'."
    for index, spec in enumerate(config.get("filters") or []):
        if spec["column"] not in known:
            return f"filters.{index}.column", f"No column {spec['column']!r}."
        if spec["column"] in table.numeric and _filter_number(spec["value"]) is None:
            return f"filters.{index}.value", "The column is numeric: compare it with a number."
    return None


# -- reading a CSV file ---------------------------------------------------------------------------

def resolve_csv(instance_path: Path, relative: str) -> Path:
    """The CSV file under <instance>/data/; InvalidRequest naming csv_path when it escapes or is absent."""
    base = (instance_path / "data").resolve()
    target = (base / relative).resolve()
    problem = None
    if not target.is_relative_to(base):  # a symlink can point outside without any '..'
        problem = "Outside the data folder."
    elif not target.is_file():
        problem = f"No file {relative!r}."
    elif target.stat().st_size > MAX_CSV_BYTES:
        problem = f"Larger than {MAX_CSV_BYTES} bytes."
    if problem:
        raise config_error("csv_path", problem)
    return target


def unique_names(header: list[str]) -> list[str]:
    """Header cells as column names: blanks named column_N, repeats suffixed .1, .2, ..."""
    names: list[str] = []
    for index, cell in enumerate(header):
        base = cell.strip() or f"column_{index + 1}"
        name, suffix = base, 0
        while name in names:
            suffix += 1
            name = f"{base}.{suffix}"
        names.append(name)
    return names


def column_from_text(cells: list[str | None]) -> tuple[bool, np.ndarray]:
    """(is_numeric, array) for one CSV column: numeric when every present cell parses as a number."""
    values = [None if c is None or c.strip().lower() in CSV_MISSING else c.strip() for c in cells]
    try:
        numbers = np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    except ValueError:
        return False, np.array(values, dtype=object)
    numbers[~np.isfinite(numbers)] = math.nan
    return True, numbers


def table_from_csv(ctx: TaskContext, path: Path) -> Table:
    """Read a CSV with a header row in chunks (cancel-checked), then type its columns one by one."""
    def fail(message: str) -> InvalidRequest:
        return config_error("csv_path", f"Unreadable CSV file: {message}")

    size = max(1, path.stat().st_size)
    rows: list[list[str]] = []
    with path.open("rb") as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        try:
            header = next(reader, None)
            if not header:
                raise fail("The file is empty or has no header row.")
            columns = unique_names(header)
            if len(columns) > MAX_COLUMNS:
                raise fail(f"More than {MAX_COLUMNS} columns.")
            for row in reader:
                rows.append(row)
                if len(rows) > MAX_ROWS or len(rows) * len(columns) > MAX_CELLS:
                    raise fail(f"More than {MAX_ROWS} rows or {MAX_CELLS} cells.")
                if len(rows) % READ_CHUNK_ROWS == 0:
                    ctx.check()
                    ctx.progress(25 * raw.tell() / size, {"stage": "reading", "rows": len(rows)})
        except (UnicodeDecodeError, csv.Error) as exc:
            raise fail(f"Line {reader.line_num}: {exc}") from exc
    table = Table(columns, {}, {}, len(rows))
    for index, name in enumerate(columns):
        ctx.check()
        ctx.progress(25 + 20 * index / len(columns), {"stage": "typing columns", "column": index + 1})
        is_numeric, array = column_from_text([row[index] if index < len(row) else None for row in rows])
        (table.numeric if is_numeric else table.categorical)[name] = array
    return table


# -- statistics -----------------------------------------------------------------------------------

def apply_filters(table: Table, filters: list[dict[str, Any]]) -> Table:
    """The rows meeting every filter; numeric columns compare numbers, categorical ones text."""
    mask = np.ones(table.n_rows, dtype=bool)
    for spec in filters:
        op = {"eq": np.equal, "ne": np.not_equal, "gt": np.greater, "ge": np.greater_equal,
              "lt": np.less, "le": np.less_equal}[spec["op"]]
        if spec["column"] in table.numeric:
            values = table.numeric[spec["column"]]
            mask &= ~np.isnan(values) & op(values, _filter_number(spec["value"]))
        else:
            values = table.categorical[spec["column"]]
            present = np.array([v is not None for v in values], dtype=bool)
            text = np.where(present, values, "").astype(str)
            mask &= present & op(text, as_text(spec["value"]))
    return table.take(mask)


def describe_numeric(values: np.ndarray) -> dict[str, Any]:
    """count, missing, mean, sample std, min, quartiles, max and sum of the present values."""
    present = values[~np.isnan(values)]
    report: dict[str, Any] = {"count": int(present.size), "missing": int(values.size - present.size)}
    if present.size == 0:
        return {**report, **dict.fromkeys(("mean", "std", "min", "q25", "median", "q75", "max"), None),
                "sum": 0.0}
    q25, median, q75 = np.percentile(present, [25, 50, 75])
    return {**report, "mean": float(present.mean()),
            "std": float(present.std(ddof=1)) if present.size > 1 else None,
            "min": float(present.min()), "q25": float(q25), "median": float(median), "q75": float(q75),
            "max": float(present.max()), "sum": float(present.sum())}


def describe_categorical(values: np.ndarray, top: int) -> dict[str, Any]:
    """count, missing, distinct values and the `top` most common ones."""
    counts = Counter(v for v in values if v is not None)
    present = sum(counts.values())
    return {"count": present, "missing": int(values.size - present), "unique": len(counts),
            "top": [{"value": v, "count": n} for v, n in counts.most_common(top)]}


def _aggregate(values: np.ndarray, op: str) -> float | int | None:
    if op == "count":
        return int(values.size)
    if values.size == 0:
        return 0.0 if op == "sum" else None
    if op == "std":
        return float(values.std(ddof=1)) if values.size > 1 else None
    reducers = {"sum": np.sum, "mean": np.mean, "min": np.min, "max": np.max, "median": np.median}
    return float(reducers[op](values))


def _group_key(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else (int(value) if value.is_integer() else value)
    return value


def aggregate(ctx: TaskContext, table: Table, config: dict[str, Any], percent: tuple[float, float]
              ) -> dict[str, Any] | None:
    """The group-by table, largest groups first (one all-rows group without group_by); None if not asked."""
    group_by, specs = config["group_by"], config["aggregations"]
    if group_by is None and specs is None:
        return None
    if specs is None:
        numeric = [c for c in table.columns if c in table.numeric and c != group_by]
        specs = [{"column": c, "op": "mean"} for c in numeric[:20]]
    if group_by is None:
        keys: list[Any] = [None] * table.n_rows
    else:
        column = table.numeric.get(group_by)
        keys = [_group_key(v) for v in (column if column is not None else table.categorical[group_by])]
    codes_of: dict[Any, int] = {}
    codes = np.array([codes_of.setdefault(k, len(codes_of)) for k in keys], dtype=np.int64)
    counts = np.bincount(codes, minlength=len(codes_of))
    group_keys = list(codes_of)
    order = sorted(range(len(group_keys)), key=lambda g: (-counts[g], str(group_keys[g])))
    starts = np.concatenate([[0], np.cumsum(counts)])
    by_group = np.argsort(codes, kind="stable")
    names = [f"{s['column']}_{s['op']}" for s in specs]
    groups = []
    for done, g in enumerate(order[:config["max_groups"]]):
        if done % GROUPS_PER_CHECK == 0:
            ctx.check()
            ctx.progress(percent[0] + (percent[1] - percent[0]) * done / len(order), {"stage": "aggregating"})
        rows = by_group[starts[g]:starts[g + 1]]
        values = {}
        for name, spec in zip(names, specs, strict=True):
            if spec["column"] in table.numeric:
                column_values = table.numeric[spec["column"]][rows]
                column_values = column_values[~np.isnan(column_values)]
            else:
                column_values = np.array([v for v in table.categorical[spec["column"]][rows]
                                          if v is not None])
            values[name] = _aggregate(column_values, spec["op"])
        groups.append({"key": group_keys[g], "rows": int(counts[g]), "values": values})
    return {"group_by": group_by, "columns": names, "group_count": len(group_keys),
            "truncated": len(group_keys) > len(groups), "groups": groups}


# -- the runner -----------------------------------------------------------------------------------

def load_table(ctx: TaskContext, config: dict[str, Any]) -> tuple[Table, str]:
    """The input table and a word for where it came from."""
    if config["records"] is not None:
        return table_from_records(config["records"], ctx, (0, 45)), "records"
    if config["csv_path"] is not None:
        return table_from_csv(ctx, resolve_csv(ctx.instance_path, config["csv_path"])), "csv"
    return table_from_dataset(config["dataset"]), config["dataset"]


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Load, filter, describe every column and aggregate per group."""
    started = time.perf_counter()
    ctx.progress(0, {"stage": "loading"})
    table, source = load_table(ctx, config)
    problem = column_problems(config, table)
    if problem:
        raise config_error(*problem)
    rows_in = table.n_rows
    ctx.check()
    table = apply_filters(table, config["filters"] or [])
    ctx.progress(50, {"stage": "filtered", "rows": table.n_rows})
    numeric: dict[str, Any] = {}
    categorical: dict[str, Any] = {}
    for name in table.columns:
        ctx.check()
        if name in table.numeric:
            numeric[name] = describe_numeric(table.numeric[name])
        else:
            categorical[name] = describe_categorical(table.categorical[name], config["top_values"])
    ctx.progress(70, {"stage": "described", "columns": len(table.columns)})
    aggregation = aggregate(ctx, table, config, (70, 99))
    result = {
        "source": source,
        "rows_in": rows_in,
        "row_count": table.n_rows,
        "rows_filtered_out": rows_in - table.n_rows,
        "column_count": len(table.columns),
        "numeric_columns": list(numeric),
        "categorical_columns": list(categorical),
        "numeric_stats": numeric,
        "categorical_stats": categorical,
        "aggregation": aggregation,
        "elapsed_seconds": round(time.perf_counter() - started, 4),
    }
    ctx.progress(100, {"stage": "done", "rows": table.n_rows})
    return TaskOutcome(result=result)


TASK_TYPE = TaskType(
    name="data_processing",
    run=run,
    schema=Config,
    description="Column statistics, filters and group-by aggregation over records, a CSV file or a dataset",
    ai_workload=False,
    training=False,
    work_units=lambda c: max(1.0, len(c.get("records") or []) / 10_000),
    default_estimate_seconds=5.0,
)
