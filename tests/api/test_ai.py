"""AI endpoints against real built-in models (trained once per session by a real first start)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from agent_support import admin_key_of
from sklearn.datasets import load_diabetes, load_digits


@pytest.fixture
def ai_client(ai_app):
    return ai_app.test_client()


@pytest.fixture
def ai_headers(ai_app):
    key = admin_key_of(ai_app)
    return {"Authorization": f"Bearer {key}"}


def infer(client, headers, **body):
    return client.post("/api/ai/inference", headers=headers, json=body)


def test_seed_sentiment_example_scores_sum_to_one(ai_client, ai_headers):
    reply = infer(ai_client, ai_headers, model="sentiment", input="This modular architecture is amazing!",
                  options={"return_confidence": True, "return_details": True})
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["success"] is True and body["model_name"] == "sentiment"
    assert body["prediction"] == "positive" and 0.5 <= body["confidence"] <= 1.0
    assert set(body["sentiment_scores"]) == {"positive", "negative", "neutral"}
    assert sum(body["sentiment_scores"].values()) == pytest.approx(1.0, abs=1e-3)
    assert body["cached"] is False and body["processing_time"] >= 0
    negative = infer(ai_client, ai_headers, model="sentiment", input="This is terrible and I hate it.").get_json()
    assert negative["prediction"] == "negative"


def test_digit_classifiers_are_accurate_on_held_out_digits(ai_app, ai_client, ai_headers):
    from ultimate_agent.ai.datasets import digits_split

    split = digits_split(0)  # the split the built-ins were trained on; its test part was never seen
    images = (split.x_test * 16).round().tolist()
    for model, floor in (("classification", 0.9), ("cnn", 0.95)):
        body = infer(ai_client, ai_headers, model=model, input=images).get_json()
        assert body["count"] == len(images)
        predictions = [p["prediction"] for p in body["predictions"]]
        accuracy = sum(int(p == y) for p, y in zip(predictions, split.y_test, strict=True)) / len(images)
        assert accuracy >= floor, (model, accuracy)
        listed = ai_client.get(f"/api/v4/ai/models/{model}", headers=ai_headers).get_json()
        assert listed["metric"] == "accuracy" and listed["accuracy"] >= floor
        assert abs(listed["accuracy"] - accuracy) < 0.02, "the reported accuracy is the held-out one"


def test_cnn_accepts_an_8x8_image_and_returns_class_probabilities(ai_client, ai_headers):
    x, y = load_digits(return_X_y=True)
    body = infer(ai_client, ai_headers, model="cnn", input=x[5].reshape(8, 8).tolist(),
                 options={"return_details": True}).get_json()
    assert body["prediction"] == int(y[5])
    assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert body["confidence"] == max(body["probabilities"].values())


def test_regression_predicts_diabetes_progression_in_range_with_honest_r2(ai_client, ai_headers):
    data = load_diabetes()
    body = infer(ai_client, ai_headers, model="regression", input=data.data[:20].tolist()).get_json()
    values = [p["prediction"] for p in body["predictions"]]
    assert all(20 < v < 360 for v in values)
    model = ai_client.get("/api/v4/ai/models/regression", headers=ai_headers).get_json()
    assert model["metric"] == "r2" and 0.3 < model["accuracy"] < 1.0
    assert model["input"]["shape"] == [10]


def test_transformer_continues_text_deterministically(ai_client, ai_headers):
    first = infer(ai_client, ai_headers, model="transformer", input="The agent ",
                  options={"max_length": 20, "return_details": True}).get_json()
    assert len(first["prediction"]) == 20 and first["input_perplexity"] > 1
    again = infer(ai_client, ai_headers, model="transformer", input="The agent ",
                  options={"max_length": 20, "return_details": True}).get_json()
    assert again["prediction"] == first["prediction"] and again["cached"] is True


def test_repeated_input_is_served_from_the_cache_until_the_model_changes(ai_app, ai_client, ai_headers):
    first = infer(ai_client, ai_headers, model="sentiment", input="A calm and pleasant afternoon.").get_json()
    second = infer(ai_client, ai_headers, model="sentiment", input="A calm and pleasant afternoon.").get_json()
    assert first["cached"] is False and second["cached"] is True
    assert second["prediction"] == first["prediction"]
    engine = ai_app.extensions["inference_engine"]
    assert engine.cache.clear() >= 1
    assert infer(ai_client, ai_headers, model="sentiment",
                 input="A calm and pleasant afternoon.").get_json()["cached"] is False


def test_cache_is_bounded_lru(ai_app):
    from ultimate_agent.ai.inference import ResultCache

    cache = ResultCache(2)
    cache.put("a", {"v": 1})
    cache.put("b", {"v": 2})
    assert cache.get("a") == {"v": 1}
    cache.put("c", {"v": 3})  # evicts b, the least recently used
    assert cache.get("b") is None and cache.get("a") == {"v": 1} and len(cache) == 2


@pytest.mark.parametrize("body, field", [
    ({"model": "classification", "input": [1, 2, 3]}, "input"),
    ({"model": "classification", "input": [99] * 64}, "input"),
    ({"model": "classification", "input": [[0] * 64, [0] * 63]}, "input.1"),
    ({"model": "classification", "input": [[0] * 64, [0] * 63 + [17]]}, "input.1"),
    ({"model": "classification", "input": [0] * 63 + [float("nan")]}, "input"),
    ({"model": "regression", "input": "text"}, "input"),
    ({"model": "sentiment", "input": ""}, "input"),
    ({"model": "sentiment", "input": ["fine", 3]}, "input.1"),
    ({"model": "sentiment"}, "input"),
    ({"input": "hello"}, "model"),
    ({"model": "transformer", "input": "hi", "options": {"max_length": 0}}, "options.max_length"),
])
def test_input_that_does_not_fit_is_400_naming_the_field(ai_client, ai_headers, body, field):
    reply = ai_client.post("/api/ai/inference", headers=ai_headers, json=body)
    assert reply.status_code == 400
    assert reply.get_json()["error_code"] == "INVALID_REQUEST"
    assert reply.get_json()["details"]["field"] == field


def test_wrong_shape_reports_the_expected_shape(ai_client, ai_headers):
    details = infer(ai_client, ai_headers, model="classification", input=[1, 2, 3]).get_json()["details"]
    assert details["expected"]["shape"] == [64]


def test_unknown_model_is_404_model_not_found(ai_client, ai_headers):
    for reply in (infer(ai_client, ai_headers, model="gpt-9", input="hi"),
                  ai_client.get("/api/v4/ai/models/gpt-9", headers=ai_headers),
                  ai_client.delete("/api/v4/ai/models/gpt-9", headers=ai_headers)):
        assert reply.status_code == 404 and reply.get_json()["error_code"] == "MODEL_NOT_FOUND"


def test_a_model_still_training_is_503(app_factory, tmp_path):
    """A fresh instance: the built-ins are training in the background when the first request comes."""
    app = app_factory(INSTANCE_PATH=str(tmp_path / "fresh"), AI_MODELS_AUTOLOAD=True)
    key = (tmp_path / "fresh" / "admin_api_key").read_text().strip()
    reply = app.test_client().post("/api/ai/inference", headers={"Authorization": f"Bearer {key}"},
                                   json={"model": "transformer", "input": "hello"})
    registry = app.extensions["model_registry"]
    if registry.entry("transformer").status == "loaded":
        pytest.skip("the machine trained the transformer before the request arrived")
    assert reply.status_code == 503 and reply.get_json()["error_code"] == "SERVICE_UNAVAILABLE"
    assert reply.get_json()["details"]["status"] in ("loading", "training")
    assert registry.wait_ready(300)


def test_capabilities_and_training_show_the_registry(ai_client, ai_headers):
    caps = ai_client.get("/api/v3/ai/capabilities", headers=ai_headers).get_json()
    names = {m["name"] for m in caps["available_models"]}
    assert {"sentiment", "classification", "cnn", "regression", "transformer"} <= names
    assert caps["models_loaded"] == 5 and caps["inference_engine_active"] is True
    assert set(caps["model_types"]) == {"nlp", "vision", "tabular"}
    assert caps["total_model_size"] > 0
    assert "neural_network_training" in caps["training_capabilities"]
    assert ai_client.get("/api/v4/ai/capabilities", headers=ai_headers).get_json()["models_loaded"] == 5
    training = ai_client.get("/api/training", headers=ai_headers).get_json()
    assert training["total_models"] == 5 and training["models_training"] == 0
    assert training["training_active"] is False
    stats = ai_client.get("/api/stats", headers=ai_headers).get_json()
    assert stats["ai_models_loaded"] == 5


def test_a_training_task_model_is_served_and_can_be_deleted(ai_app, ai_client, ai_headers):
    task = ai_client.post("/api/start_task", headers=ai_headers, json={
        "type": "neural_network_training", "config": {"epochs": 5, "model_name": "my-digits"}}).get_json()
    manager = ai_app.extensions["task_manager"]
    assert manager.wait(task["task_id"], 60)
    record = ai_client.get(f"/api/v4/tasks/{task['task_id']}", headers=ai_headers).get_json()
    assert record["status"] == "completed" and record["result"]["served_as"] == "my-digits"
    model = ai_client.get("/api/v4/ai/models/my-digits", headers=ai_headers).get_json()
    assert model["status"] == "loaded" and model["source"] == task["task_id"]
    x, y = load_digits(return_X_y=True)
    assert infer(ai_client, ai_headers, model="my-digits", input=x[10].tolist()).get_json()["prediction"] == y[10]
    weights = Path(ai_app.instance_path) / "models" / task["task_id"]
    assert weights.exists()
    assert ai_client.delete("/api/v4/ai/models/my-digits", headers=ai_headers).get_json()["deleted"] is True
    assert not weights.exists()
    assert infer(ai_client, ai_headers, model="my-digits", input=x[10].tolist()).status_code == 404
    builtin = ai_client.delete("/api/v4/ai/models/classification", headers=ai_headers)
    assert builtin.status_code == 409


def test_task_models_are_served_again_after_a_restart(ai_app, ai_client, ai_headers, app_factory):
    task = ai_client.post("/api/start_task", headers=ai_headers, json={
        "type": "cnn_training", "config": {"epochs": 2}}).get_json()
    assert ai_app.extensions["task_manager"].wait(task["task_id"], 60)
    restarted = app_factory(INSTANCE_PATH=ai_app.instance_path, AI_MODELS_AUTOLOAD=True)
    registry = restarted.extensions["model_registry"]
    assert registry.wait_ready(60)
    assert registry.entry(task["task_id"]).status == "loaded"


def test_inference_runs_while_a_training_task_trains(ai_app, ai_client, ai_headers):
    """Inference and training share the process; both finish with correct answers."""
    x, y = load_digits(return_X_y=True)
    task = ai_client.post("/api/start_task", headers=ai_headers, json={
        "type": "cnn_training", "config": {"epochs": 3}}).get_json()
    errors: list[str] = []

    def hammer(offset: int) -> None:
        client = ai_app.test_client()
        for i in range(offset, offset + 40):
            body = infer(client, ai_headers, model="classification", input=(x[i] + 0).tolist()).get_json()
            if body.get("prediction") is None:
                errors.append(str(body))

    threads = [threading.Thread(target=hammer, args=(k * 40,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert ai_app.extensions["task_manager"].wait(task["task_id"], 120)
    record = ai_client.get(f"/api/v4/tasks/{task['task_id']}", headers=ai_headers).get_json()
    assert record["status"] == "completed"
    correct = sum(infer(ai_client, ai_headers, model="classification", input=x[i].tolist()).get_json()["prediction"]
                  == y[i] for i in range(100))
    assert correct >= 90


def test_read_key_can_infer_but_not_delete_models(ai_app, ai_client):
    from ultimate_agent.security.keys import create_key

    with ai_app.app_context():
        raw = create_key("reader", ["read"])[1]
    reply = infer(ai_client, {"Authorization": f"Bearer {raw}"}, model="sentiment", input="Nice work.")
    assert reply.status_code == 200
    delete = ai_client.delete("/api/v4/ai/models/sentiment", headers={"Authorization": f"Bearer {raw}"})
    assert delete.status_code == 403


def test_batch_inference_task_uses_the_registry_model(ai_app, ai_client, ai_headers):
    for config, expected in (({}, "builtin-classification"), ({"model": "cnn"}, "builtin-cnn")):
        task = ai_client.post("/api/start_task", headers=ai_headers,
                              json={"type": "model_inference_batch", "config": config}).get_json()
        assert ai_app.extensions["task_manager"].wait(task["task_id"], 60)
        record = ai_client.get(f"/api/v4/tasks/{task['task_id']}", headers=ai_headers).get_json()
        assert record["status"] == "completed", record["error"]
        assert expected in record["result"]["model_path"] and record["result"]["accuracy"] >= 0.9
    bad = ai_client.post("/api/start_task", headers=ai_headers,
                         json={"type": "model_inference_batch", "config": {"model": "regression"}}).get_json()
    assert ai_app.extensions["task_manager"].wait(bad["task_id"], 60)
    failed = ai_client.get(f"/api/v4/tasks/{bad['task_id']}", headers=ai_headers).get_json()
    assert failed["status"] == "failed" and "model" in failed["error"]
