"""Scraping /metrics in tests and reading the samples back with prometheus_client's own parser."""

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "metrics-test-token-0123456789"


def scrape(client, **headers):
    return client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}", **headers})


def samples(client) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape: (sample name, its labels) -> value. Fails unless the scrape is a
    200 in Prometheus' text format that the parser reads whole."""
    response = scrape(client)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in found, f"{key} twice in one scrape"
            found[key] = sample.value
    return found


def value(found: dict, name: str, default: float = 0.0, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), default)
