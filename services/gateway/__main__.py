"""The gateway process: python -m services.gateway"""

import uvicorn

from shared import logs, tracing
from shared.settings import Settings

from services.gateway.app import build_asgi

if __name__ == "__main__":
    settings = Settings()
    logs.configure("gateway", settings.log_level)
    tracing.configure("gateway", settings.otlp_endpoint)
    # A WebSocket message (subscriptions) is bounded as a request body is.
    uvicorn.run(build_asgi(settings), host=settings.host, port=settings.port, log_config=None,
                ws_max_size=settings.max_request_bytes)
