"""The text Prometheus scrapes: the counters every web process wrote to PROMETHEUS_MULTIPROC_DIR
(summed across processes, dead ones included, as counters must be) and the scrape-time gauges."""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from observability.collectors import StateCollector
from observability.multiproc import multiproc_dir

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(registry, path=str(multiproc_dir()))
    registry.register(StateCollector())
    return generate_latest(registry)
