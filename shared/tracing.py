"""Traces (OpenTelemetry): one trace from a GraphQL mutation through the command, its stored events, the
relay and every consumer that applies them.

Off by default: with CQP_OTLP_ENDPOINT set (an OTLP/HTTP collector, e.g. http://127.0.0.1:4318) each
process exports its spans there. The context travels as W3C `traceparent`: in the HTTP headers from
the gateway to a service, in the stored events' context (so the relay, even after a restart, continues
the command's trace), and in the envelope for the consumers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind

TRACER = "cqp"
_on = False


def configure(process: str, endpoint: str) -> None:
    """Export this process's spans to the collector at `endpoint`; nothing when it is empty."""
    global _on
    if not endpoint:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": f"cqp-{process}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")))
    trace.set_tracer_provider(provider)
    _on = True


def enabled() -> bool:
    return _on


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER)


def headers() -> dict[str, str]:
    """The current span's context, as HTTP headers (empty when tracing is off)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def parent_of(traceparent: str | None):
    """The context a `traceparent` names (None: a new trace)."""
    return propagate.extract({"traceparent": traceparent}) if traceparent else None


def current_traceparent() -> str | None:
    return headers().get("traceparent")


@contextlib.contextmanager
def span(name: str, kind: SpanKind = SpanKind.INTERNAL, traceparent: str | None = None,
         carrier: dict | None = None, **attributes) -> Iterator[Span]:
    """A span, child of the current one, of `traceparent`, or of the context in an HTTP `carrier`."""
    context = propagate.extract(carrier) if carrier is not None else parent_of(traceparent)
    with tracer().start_as_current_span(name, context=context, kind=kind,
                                        attributes={k: str(v) for k, v in attributes.items()}) as current:
        yield current
