"""OpenTelemetry: a `feature_flag.evaluation` event for each impression (`flagkit[otel]`).

```
from flagkit.otel import emit_evaluation_events
stop = emit_evaluation_events(flags)                 # flags that say "impressions": true
stop = emit_evaluation_events(flags, every_flag=True)
```

Each event follows OpenTelemetry's semantic conventions for feature flags: a log
record named `feature_flag.evaluation` with `feature_flag.key`,
`feature_flag.provider.name` (`flagkit`), `feature_flag.result.variant`,
`feature_flag.result.reason`, `feature_flag.context.id` (the tenant id) and
`feature_flag.version` (the document version), emitted through `opentelemetry-api`'s
logger provider (the SDK you configure decides where it goes). Events are emitted on
flagkit's impression thread, never the reader's, and carry the reader's trace context,
so they belong to the span that was current when the flag was read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flagkit.client import Flags
from flagkit.impressions import Impression

__all__ = ["EVENT_NAME", "PROVIDER_NAME", "emit_evaluation_events", "event_attributes"]

EVENT_NAME = "feature_flag.evaluation"
PROVIDER_NAME = "flagkit"


def emit_evaluation_events(
    flags: Flags, *, every_flag: bool = False, logger_provider: Any = None
) -> Callable[[], None]:
    """Emit a `feature_flag.evaluation` event for each impression of `flags` (of every flag
    with `every_flag=True`); returns a function that stops it.

    `logger_provider` defaults to OpenTelemetry's global one. Raises ImportError with an
    install hint without `opentelemetry-api`.
    """
    try:
        from opentelemetry._logs import LogRecord, get_logger
    except ImportError:
        raise ImportError(
            "flagkit.otel needs opentelemetry-api: pip install 'flagkit-engine[otel]'"
        ) from None
    logger = get_logger("flagkit", logger_provider=logger_provider)

    def emit(impression: Impression) -> None:
        logger.emit(
            LogRecord(
                timestamp=int(impression.time * 1e9),
                context=impression.context,
                event_name=EVENT_NAME,
                attributes=event_attributes(impression),
            )
        )

    return flags.on_evaluation(emit, every_flag=every_flag, trace_context=True)


def event_attributes(impression: Impression) -> dict[str, str]:
    """The semantic conventions' attributes of one impression (absent values left out)."""
    attributes = {
        "feature_flag.key": impression.flag,
        "feature_flag.provider.name": PROVIDER_NAME,
        "feature_flag.result.reason": impression.reason.value.lower(),
    }
    if impression.variant is not None:
        attributes["feature_flag.result.variant"] = impression.variant
    if impression.tenant is not None:
        attributes["feature_flag.context.id"] = impression.tenant
    if impression.version is not None:
        attributes["feature_flag.version"] = impression.version
    return attributes
