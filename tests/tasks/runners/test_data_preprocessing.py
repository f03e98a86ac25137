"""data_preprocessing runner: the fitted pipeline imputes, scales, encodes, reduces and reloads."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn import datasets
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ultimate_agent.errors import InvalidRequest
from ultimate_agent.tasks.context import TaskCancelled, TaskContext
from ultimate_agent.tasks.runners.data_preprocessing import DATASET_SHAPES, TASK_TYPE, records_matrix

CITIES = ["paris", "lyon", "nice", "lille"]


def make_records(n: int = 60, seed: int = 1) -> list[dict[str, Any]]:
    """Rows with a few missing numbers and cities, a mixed int/float column and a target."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        records.append({
            "age": None if i % 7 == 3 else int(rng.integers(18, 80)),
            "income": None if i % 11 == 5 else float(rng.normal(40_000, 9_000)),
            "city": None if i % 9 == 4 else CITIES[int(rng.integers(0, len(CITIES)))],
            "label": int(i % 2),
        })
    records[0]["score"] = 1.5  # a column only some rows have: the others count as missing
    records[1]["score"] = 3
    return records


def run_task(tmp_path: Path, config: dict[str, Any]) -> tuple[dict[str, Any], list]:
    cfg = TASK_TYPE.validate(config)
    seen: list = []
    ctx = TaskContext(task_id="t-test", task_type="data_preprocessing", config=cfg, instance_path=tmp_path,
                      on_progress=lambda p, d: seen.append((p, d)))
    return TASK_TYPE.run(ctx, cfg).result, seen


def reference_pipeline(matrix: np.ndarray, numeric_at: list[int], categorical_at: list[int]) -> Pipeline:
    """The same pipeline built and fitted independently of the runner."""
    numeric = Pipeline([("i", SimpleImputer(strategy="median")), ("s", StandardScaler())])
    categorical = Pipeline([("i", SimpleImputer(strategy="most_frequent")),
                            ("e", OneHotEncoder(handle_unknown="ignore", sparse_output=False))])
    transformer = ColumnTransformer([("n", numeric, numeric_at), ("c", categorical, categorical_at)])
    return Pipeline([("t", transformer)]).fit(matrix)


def test_records_with_missing_values_and_a_category(tmp_path: Path) -> None:
    records = make_records()
    result, seen = run_task(tmp_path, {"records": records, "target": "label"})

    assert result["input_shape"] == [60, 5]
    assert result["numeric_columns"] == ["age", "income", "score"]
    assert result["categorical_columns"] == ["city"]
    assert result["target"] == "label" and "label" not in result["input_columns"]
    expected_missing = {c: sum(r.get(c) is None for r in records) for c in ("age", "income", "score", "city")}
    assert result["missing_values"] == expected_missing
    ages = [r["age"] for r in records if r["age"] is not None]
    assert result["imputed_values"]["age"] == {"count": expected_missing["age"],
                                               "fill_value": pytest.approx(float(np.median(ages)))}
    counts = Counter(r["city"] for r in records if r["city"] is not None)
    # most_frequent breaks ties by taking the smallest value.
    top_city = min(c for c, n in counts.items() if n == max(counts.values()))
    assert result["imputed_values"]["city"]["fill_value"] == top_city
    assert result["output_shape"] == [60, 3 + len(CITIES)]
    assert result["scaled_numeric_check"]["max_abs_mean"] < 1e-6
    assert result["scaled_numeric_check"]["min_std"] == pytest.approx(1.0)
    assert result["pca"] is None

    pipeline = joblib.load(result["pipeline_path"])
    assert Path(result["pipeline_path"]).parent == tmp_path / "models" / "t-test"
    matrix = records_matrix(records, result["input_columns"], result["categorical_columns"])
    output = pipeline.transform(matrix)
    scaled = output[:, :3]
    assert np.allclose(scaled.mean(axis=0), 0, atol=1e-9)
    assert np.allclose(scaled.std(axis=0), 1, atol=1e-9)
    assert np.allclose(output[:, 3:].sum(axis=1), 1)  # one city each, missing ones imputed
    assert np.allclose(output[:5], result["preview"], atol=1e-5)

    # The reloaded pipeline transforms unseen rows exactly like an independently fitted one.
    assert result["input_columns"] == ["age", "income", "city", "score"]  # first-seen order
    reference = reference_pipeline(matrix, [0, 1, 3], [2])
    new = [{"age": 30, "income": None, "city": "lyon", "score": 2.0},
           {"age": None, "income": 52_000.5, "city": "tokyo"},
           {"city": None}]
    new_matrix = records_matrix(new, result["input_columns"], result["categorical_columns"])
    assert np.allclose(pipeline.transform(new_matrix), reference.transform(new_matrix))
    assert np.allclose(pipeline.transform(new_matrix)[1, 3:], 0)  # unknown city: no one-hot column set

    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100
    stages = [d["stage"] for _, d in seen if d]
    assert "columns detected" in stages and "saved" in stages


def test_pca_on_a_dataset_matches_sklearn(tmp_path: Path) -> None:
    result, _ = run_task(tmp_path, {"dataset": "iris", "pca_components": 2})
    assert result["input_shape"] == [150, 4] and result["output_shape"] == [150, 2]
    expected = PCA(2, random_state=0).fit(StandardScaler().fit_transform(datasets.load_iris().data))
    assert result["pca"]["explained_variance_ratio"] == pytest.approx(
        list(expected.explained_variance_ratio_), abs=1e-6)
    assert result["pca"]["n_components"] == 2

    pipeline = joblib.load(result["pipeline_path"])
    assert [name for name, _ in pipeline.steps] == ["columns", "pca"]
    assert np.allclose(np.abs(pipeline.transform(datasets.load_iris().data)[:5]),
                       np.abs(result["preview"]), atol=1e-5)


def test_pca_variance_share_keeps_enough_components(tmp_path: Path) -> None:
    result, _ = run_task(tmp_path, {"dataset": "wine", "pca_components": 0.8})
    ratios = result["pca"]["explained_variance_ratio"]
    assert sum(ratios) >= 0.8 > sum(ratios[:-1])
    assert result["output_shape"] == [178, len(ratios)]


def test_max_categories_caps_one_hot_width(tmp_path: Path) -> None:
    records = [{"x": float(i), "c": "abcdef"[i % 6]} for i in range(30)]
    result, _ = run_task(tmp_path, {"records": records, "max_categories": 3, "preview_rows": 0})
    assert result["output_shape"] == [30, 1 + 3] and result["preview"] == []


def test_default_config_uses_wine(tmp_path: Path) -> None:
    result, _ = run_task(tmp_path, {})
    assert result["source"] == "wine" and result["output_shape"] == [178, 13]
    cfg = TASK_TYPE.validate({})
    assert TASK_TYPE.validate(cfg) == cfg  # a stored, validated config validates again unchanged
    assert result["scaled_numeric_check"]["min_std"] == pytest.approx(1.0)


def test_dataset_shapes_match_the_shipped_datasets() -> None:
    for name, shape in DATASET_SHAPES.items():
        assert getattr(datasets, f"load_{name}")().data.shape == shape


@pytest.mark.parametrize(("config", "field"), [
    ({"records": [{"a": 1}, {"a": 2}], "dataset": "iris"}, "dataset"),
    ({"dataset": "mnist"}, "dataset"),
    ({"dataset": "iris", "target": "x"}, "target"),
    ({"records": [{"a": 1}, {"a": 2}], "target": "b"}, "target"),
    ({"records": [{"a": None}, {"a": None}]}, "records"),
    ({"records": [{"a": [1, 2]}, {"a": 2}]}, "records"),
    ({"records": [{"a": 1}]}, "records"),
    ({"pca_components": 0}, "pca_components"),
    ({"pca_components": 1.5}, "pca_components"),
    ({"pca_components": True}, "pca_components"),
    ({"pca_components": 14}, "pca_components"),
    ({"records": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}], "pca_components": 3}, "pca_components"),
    ({"max_categories": 1}, "max_categories"),
    ({"seed": -1}, "seed"),
    ({"epochs": 3}, "epochs"),
])
def test_bad_config_names_the_field(config: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        TASK_TYPE.validate(config)
    assert caught.value.details["field"] == field


def test_cancel_stops_the_run(tmp_path: Path) -> None:
    cfg = TASK_TYPE.validate({"records": make_records()})
    ctx: TaskContext

    def on_progress(percent: float, details: dict | None) -> None:
        ctx.control.cancel()

    ctx = TaskContext(task_id="t-test", task_type="data_preprocessing", config=cfg, instance_path=tmp_path,
                      on_progress=on_progress)
    with pytest.raises(TaskCancelled):
        TASK_TYPE.run(ctx, cfg)
    assert not (tmp_path / "models" / "t-test" / "pipeline.joblib").exists()
