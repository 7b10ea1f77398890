"""`flagkit.otel`: one `feature_flag.evaluation` event per impression, with the semantic
conventions' attributes, tied to the span that was current when the flag was read; read
back through OpenTelemetry's SDK (an in-memory exporter), not a mock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider

from flagkit import Flags
from flagkit.otel import emit_evaluation_events

DOCUMENT = {
    "checkout": {"enabled": True, "impressions": True, "tenants": ["acme"]},
    "quiet": {"enabled": True},
}


@pytest.fixture
def exported() -> Iterator[tuple[LoggerProvider, InMemoryLogRecordExporter]]:
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def test_each_impression_is_a_feature_flag_evaluation_event_in_the_readers_span(
    exported: tuple[LoggerProvider, InMemoryLogRecordExporter],
) -> None:
    provider, exporter = exported
    flags = Flags.from_dict(DOCUMENT, version="v3", clock=lambda: 1_700_000_000.5)
    emit_evaluation_events(flags, logger_provider=provider)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("checkout request") as span:
        flags.enabled("checkout", "acme")
        flags.enabled("quiet", "acme")  # asks for no impressions
    flags.close()  # drains the impression queue
    [record] = [data.log_record for data in exporter.get_finished_logs()]
    assert record.event_name == "feature_flag.evaluation"
    assert dict(record.attributes or {}) == {
        "feature_flag.key": "checkout",
        "feature_flag.provider.name": "flagkit",
        "feature_flag.result.variant": "on",
        "feature_flag.result.reason": "targeting_match",
        "feature_flag.context.id": "acme",
        "feature_flag.version": "v3",
    }
    assert record.timestamp == 1_700_000_000_500_000_000
    assert (record.trace_id, record.span_id) == (
        span.get_span_context().trace_id,
        span.get_span_context().span_id,
    )


def test_every_flag_when_asked(exported: tuple[LoggerProvider, InMemoryLogRecordExporter]) -> None:
    provider, exporter = exported
    flags = Flags.from_dict(DOCUMENT)
    emit_evaluation_events(flags, every_flag=True, logger_provider=provider)
    flags.enabled("quiet", "globex")
    flags.close()
    [record] = [data.log_record for data in exporter.get_finished_logs()]
    assert (record.attributes or {})["feature_flag.key"] == "quiet"
    assert (record.attributes or {})["feature_flag.result.reason"] == "static"
