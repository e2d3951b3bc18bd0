"""With an OTLP collector configured, one mutation is one trace: the GraphQL request, the command in its
service, the publication of its event and every consumer that applies it."""

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.harness import eventually, free_port


class Collector:
    """A minimal OTLP/HTTP receiver: keeps (process, span name, trace id) of every span it is sent."""

    def __init__(self):
        self.spans: list[tuple[str, str, str]] = []
        spans = self.spans

        class Receive(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest.FromString(body)
                for resource_spans in request.resource_spans:
                    process = next(a.value.string_value for a in resource_spans.resource.attributes
                                   if a.key == "service.name")
                    for scope in resource_spans.scope_spans:
                        spans.extend((process, s.name, s.trace_id.hex()) for s in scope.spans)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()
                self.wfile.write(b"")

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Receive)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def trace_of(self, process: str, name: str) -> str | None:
        return next((t for p, n, t in self.spans if p == process and n == name), None)


async def test_a_mutation_is_one_trace_from_graphql_to_every_consumer_of_its_event(system):
    collector = Collector()
    try:
        await system.start(CQP_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.port}", OTEL_BSP_SCHEDULE_DELAY="100")
        answer = await system.graphql(
            'mutation { registerCandidate(input: {givenName: "Ana", familyName: "Lopes", email: "ana@example.org",'
            ' status: EMPLOYEE}, idempotencyKey: "traced") { __typename } }')
        assert answer["registerCandidate"]["__typename"] == "CandidateRegistered"

        async def whole_trace():
            trace = collector.trace_of("cqp-gateway", "command register-candidate")
            if trace is None:
                return None
            names = {(p, n) for p, n, t in collector.spans if t == trace}
            expected = {("cqp-candidacy", "command register-candidate"), ("cqp-candidacy", "publish CandidateRegistered"),
                        ("cqp-gateway", "apply CandidateRegistered"), ("cqp-jury", "apply CandidateRegistered")}
            return names if expected <= names else None

        try:
            names = await eventually(whole_trace)
        except TimeoutError:
            raise AssertionError(f"incomplete trace; spans received: {sorted(set(collector.spans))}") from None
        assert any(p == "cqp-gateway" and n.startswith("GraphQL") for p, n in names), names
    finally:
        collector.server.shutdown()
