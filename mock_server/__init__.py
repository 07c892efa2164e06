"""The kit's mock server: the Go demo's support APIs plus an offline OpenAI-compatible model.

    from mock_server import start_server
    server = start_server(port=0)               # a free port; runs in a background thread
    client = OpenAI(base_url=server.openai_base_url, api_key="offline")

Run it in a terminal instead with `python -m mock_server`. See mock_server/README.md.
"""

from .app import create_app
from .constants import OFFLINE_MODEL_NAME
from .request_log import format_request_log
from .runner import MockServer, PortInUseError, ThreadedServer, serve_in_thread, start_server

__all__ = [
    "OFFLINE_MODEL_NAME",
    "MockServer",
    "PortInUseError",
    "ThreadedServer",
    "create_app",
    "format_request_log",
    "serve_in_thread",
    "start_server",
]
