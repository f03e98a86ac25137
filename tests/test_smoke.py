"""The app starts and answers."""


def test_health_is_public_and_scores_the_machine(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.get_json()
    assert 0 <= body["health_score"] <= 100
    assert set(body["components"]) >= {"cpu", "memory", "disk"}
