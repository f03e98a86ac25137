"""data_processing runner: statistics, filters and group-by checked against independently computed numbers."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import datasets

from ultimate_agent.errors import InvalidRequest
from ultimate_agent.tasks.context import TaskCancelled, TaskContext
from ultimate_agent.tasks.runners.data_processing import TASK_TYPE

REGIONS = ["north", "south", "east"]


def make_records(n: int = 200, seed: int = 3) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [{
        "price": None if i % 13 == 0 else round(float(rng.normal(100, 25)), 3),
        "qty": int(rng.integers(1, 10)),
        "region": None if i % 17 == 0 else REGIONS[int(rng.integers(0, 3))],
        "active": bool(i % 3),
    } for i in range(n)]


def run_task(tmp_path: Path, config: dict[str, Any]) -> tuple[dict[str, Any], list]:
    cfg = TASK_TYPE.validate(config)
    seen: list = []
    ctx = TaskContext(task_id="t-test", task_type="data_processing", config=cfg, instance_path=tmp_path,
                      on_progress=lambda p, d: seen.append((p, d)))
    return TASK_TYPE.run(ctx, cfg).result, seen


def expected_numeric(values: list[float]) -> dict[str, Any]:
    """The runner's numeric summary computed with the statistics module instead of numpy."""
    q25, median, q75 = statistics.quantiles(values, n=4, method="inclusive")
    return {"count": len(values), "mean": statistics.fmean(values), "std": statistics.stdev(values),
            "min": min(values), "q25": q25, "median": median, "q75": q75, "max": max(values),
            "sum": sum(values)}


def test_column_statistics_match_independent_computation(tmp_path: Path) -> None:
    records = make_records()
    result, seen = run_task(tmp_path, {"records": records, "top_values": 2})
    assert result["row_count"] == 200 and result["column_count"] == 4
    assert result["numeric_columns"] == ["price", "qty"]
    assert result["categorical_columns"] == ["region", "active"]
    for column in ("price", "qty"):
        values = [r[column] for r in records if r[column] is not None]
        stats = result["numeric_stats"][column]
        assert stats["missing"] == 200 - len(values)
        for key, value in expected_numeric(values).items():
            assert stats[key] == pytest.approx(value, rel=1e-12), (column, key)
    regions = Counter(r["region"] for r in records if r["region"] is not None)
    region_stats = result["categorical_stats"]["region"]
    assert region_stats["missing"] == sum(r["region"] is None for r in records)
    assert region_stats["unique"] == 3
    assert [t["count"] for t in region_stats["top"]] == sorted(regions.values(), reverse=True)[:2]
    assert {t["value"]: t["count"] for t in result["categorical_stats"]["active"]["top"]} == {
        "true": sum(r["active"] for r in records), "false": sum(not r["active"] for r in records)}
    assert result["aggregation"] is None
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100


def test_group_by_aggregations_and_filters(tmp_path: Path) -> None:
    records = make_records()
    aggregations = [{"column": op_column, "op": op} for op_column, op in [
        ("price", "sum"), ("price", "mean"), ("price", "min"), ("price", "max"), ("price", "median"),
        ("price", "std"), ("price", "count"), ("qty", "mean"), ("region", "count")]]
    filters = [{"column": "qty", "op": "ge", "value": 3}, {"column": "active", "op": "eq", "value": True}]
    result, _ = run_task(tmp_path, {"records": records, "group_by": "region", "aggregations": aggregations,
                                    "filters": filters})
    kept = [r for r in records if r["qty"] >= 3 and r["active"]]
    assert result["row_count"] == len(kept) and result["rows_filtered_out"] == 200 - len(kept)
    table = result["aggregation"]
    assert table["group_by"] == "region" and table["group_count"] == 4  # three regions and missing
    assert table["columns"][:2] == ["price_sum", "price_mean"]
    sizes = [g["rows"] for g in table["groups"]]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == len(kept)
    for group in table["groups"]:
        rows = [r for r in kept if r["region"] == group["key"]]
        prices = [r["price"] for r in rows if r["price"] is not None]
        values = group["values"]
        assert group["rows"] == len(rows)
        assert values["price_sum"] == pytest.approx(sum(prices))
        assert values["price_mean"] == pytest.approx(statistics.fmean(prices))
        assert values["price_min"] == min(prices) and values["price_max"] == max(prices)
        assert values["price_median"] == pytest.approx(statistics.median(prices))
        assert values["price_std"] == pytest.approx(statistics.stdev(prices))
        assert values["price_count"] == len(prices)
        assert values["qty_mean"] == pytest.approx(statistics.fmean(r["qty"] for r in rows))
        assert values["region_count"] == (0 if group["key"] is None else len(rows))


def test_missing_values_never_match_filters(tmp_path: Path) -> None:
    records = [{"x": 1.0, "c": "a"}, {"x": None, "c": None}, {"x": 3.0, "c": "b"}]
    not_one = [{"column": "x", "op": "ne", "value": 1}]
    result, _ = run_task(tmp_path, {"records": records, "filters": not_one})
    assert result["row_count"] == 1 and result["numeric_stats"]["x"]["max"] == 3.0
    before_b = [{"column": "c", "op": "lt", "value": "b"}]
    result, _ = run_task(tmp_path, {"records": records, "filters": before_b})
    assert result["row_count"] == 1 and result["numeric_stats"]["x"]["max"] == 1.0


def test_csv_file_is_read_and_typed(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "sales"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    amounts = np.round(rng.normal(50, 10, 300), 2)
    lines = ["\ufeffid,amount,shop,code,amount"]  # BOM and a repeated column name
    for i, amount in enumerate(amounts):
        cell = "NA" if i % 10 == 0 else ("" if i % 10 == 1 else f"{amount}")
        lines.append(f"{i},{cell},shop{i % 4},{'007' if i % 2 else 'x'},{i}")
    (folder / "sales.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result, seen = run_task(tmp_path, {"csv_path": "sales/sales.csv", "group_by": "shop",
                                       "aggregations": [{"column": "amount", "op": "mean"}]})
    assert result["source"] == "csv" and result["row_count"] == 300
    assert result["numeric_columns"] == ["id", "amount", "amount.1"]
    assert result["categorical_columns"] == ["shop", "code"]
    present = np.array([a for i, a in enumerate(amounts) if i % 10 not in (0, 1)])
    stats = result["numeric_stats"]["amount"]
    assert stats["missing"] == 60 and stats["count"] == present.size
    assert stats["mean"] == pytest.approx(present.mean())
    assert stats["std"] == pytest.approx(present.std(ddof=1))
    quartiles = np.percentile(present, [25, 50, 75])
    assert [stats["q25"], stats["median"], stats["q75"]] == pytest.approx(quartiles)
    assert {t["value"] for t in result["categorical_stats"]["code"]["top"]} == {"007", "x"}
    for group in result["aggregation"]["groups"]:
        shop = int(group["key"].removeprefix("shop"))
        mine = [a for i, a in enumerate(amounts) if i % 4 == shop and i % 10 not in (0, 1)]
        assert group["values"]["amount_mean"] == pytest.approx(np.mean(mine))


def test_csv_path_must_stay_in_the_data_folder(tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("a\n1\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "link.csv").symlink_to(outside)
    for path in ("/etc/passwd", "../secret.csv", "a/../../secret.csv", "C:\\x.csv", "..\\secret.csv"):
        with pytest.raises(InvalidRequest) as caught:
            TASK_TYPE.validate({"csv_path": path})
        assert caught.value.details["field"] == "csv_path", path
    for path in ("link.csv", "missing.csv"):
        with pytest.raises(InvalidRequest) as caught:
            run_task(tmp_path, {"csv_path": path})
        assert caught.value.details["field"] == "csv_path"


def test_default_config_describes_iris(tmp_path: Path) -> None:
    cfg = TASK_TYPE.validate({"group_by": "target"})
    assert TASK_TYPE.validate(cfg) == cfg  # a stored, validated config validates again unchanged
    result, _ = run_task(tmp_path, {"group_by": "target"})
    assert result["source"] == "iris" and result["row_count"] == 150
    iris = datasets.load_iris()
    first = iris.feature_names[0]
    assert result["numeric_stats"][first]["mean"] == pytest.approx(iris.data[:, 0].mean())
    groups = {g["key"]: g for g in result["aggregation"]["groups"]}
    assert set(groups) == set(iris.target_names)
    for index, name in enumerate(iris.target_names):
        expected = iris.data[iris.target == index, 0].mean()
        assert groups[name]["values"][f"{first}_mean"] == pytest.approx(expected)


def test_max_groups_truncates_to_the_largest(tmp_path: Path) -> None:
    records = [{"k": k, "v": 1.0} for k in [1] * 5 + [2] * 3 + [3] * 4 + [4]]
    result, _ = run_task(tmp_path, {"records": records, "group_by": "k", "max_groups": 2})
    table = result["aggregation"]
    assert table["truncated"] is True and table["group_count"] == 4
    assert [(g["key"], g["rows"]) for g in table["groups"]] == [(1, 5), (3, 4)]


@pytest.mark.parametrize(("config", "field"), [
    ({"records": [{"a": 1}], "csv_path": "x.csv"}, "csv_path"),
    ({"csv_path": "x.csv", "dataset": "iris"}, "dataset"),
    ({"records": []}, "records"),
    ({"records": [{"a": {"b": 1}}]}, "records"),
    ({"records": [{"a": 1}], "group_by": "b"}, "group_by"),
    ({"records": [{"a": 1}], "aggregations": [{"column": "b", "op": "sum"}]}, "aggregations.0.column"),
    ({"records": [{"a": "x"}], "aggregations": [{"column": "a", "op": "mean"}]}, "aggregations.0.op"),
    ({"records": [{"a": 1}], "aggregations": [{"column": "a", "op": "mode"}]}, "aggregations.0.op"),
    ({"records": [{"a": 1}], "filters": [{"column": "a", "op": "gt", "value": "big"}]}, "filters.0.value"),
    ({"records": [{"a": 1}], "filters": [{"column": "a", "op": "like", "value": 1}]}, "filters.0.op"),
    ({"filters": [{"column": "target", "op": "eq", "value": [1]}]}, "filters.0.value"),
    ({"top_values": 0}, "top_values"),
    ({"max_groups": 1001}, "max_groups"),
    ({"epochs": 1}, "epochs"),
])
def test_bad_config_names_the_field(config: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        TASK_TYPE.validate(config)
    assert caught.value.details["field"] == field


def test_bad_column_in_a_csv_task_fails_naming_the_field(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_text("a,b\n1,x\n")
    with pytest.raises(InvalidRequest) as caught:
        run_task(tmp_path, {"csv_path": "t.csv", "aggregations": [{"column": "b", "op": "sum"}]})
    assert caught.value.details["field"] == "aggregations.0.op"


def test_cancel_stops_the_run(tmp_path: Path) -> None:
    cfg = TASK_TYPE.validate({"records": make_records()})
    ctx: TaskContext

    def on_progress(percent: float, details: dict | None) -> None:
        ctx.control.cancel()

    ctx = TaskContext(task_id="t-test", task_type="data_processing", config=cfg, instance_path=tmp_path,
                      on_progress=on_progress)
    with pytest.raises(TaskCancelled):
        TASK_TYPE.run(ctx, cfg)
