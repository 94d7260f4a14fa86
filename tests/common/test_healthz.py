"""GET /healthz: the liveness probe answers without touching the database (these tests have no
database access: any query would fail them)."""


def test_healthz_answers_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_healthz_is_get_only(client):
    assert client.post("/healthz").status_code == 405
