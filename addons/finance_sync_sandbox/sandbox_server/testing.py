"""Run the sandbox on an ephemeral loopback port inside tests."""
import logging
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import SandboxApp

_logger = logging.getLogger(__name__)


class QuietRequestHandler(WSGIRequestHandler):
    """Request handler that logs at DEBUG instead of printing every request."""

    def log(self, type, message, *args):
        _logger.debug("%s " + message, self.address_string(), *args)


class SandboxServer:
    """Context manager serving a fresh SandboxApp on 127.0.0.1:<free port>.

    ``with SandboxServer(seed=1) as sb: requests.get(sb.base_url + "/_sandbox/echo")``
    """

    def __init__(self, seed=42, host="127.0.0.1", **settings):
        self.host = host
        self.app = SandboxApp(seed=seed, **settings)
        self._server = None
        self._thread = None

    # ---------------------------------------------------------------- lifecycle
    def start(self):
        if self._server is not None:
            return self
        self._server = make_server(self.host, 0, self.app, threaded=True,
                                   request_handler=QuietRequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="sandbox-server", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop()

    # ---------------------------------------------------------------- accessors
    @property
    def port(self):
        return self._server.server_port

    @property
    def base_url(self):
        return "http://%s:%s" % (self.host, self.port)

    def url(self, platform, path=""):
        """Base URL of one platform ("expense", "treasury", "bank", "screening") + path."""
        return "%s/%s%s" % (self.base_url, platform, path)

    @property
    def state(self):
        return self.app.state

    @property
    def settings(self):
        return self.app.state.settings

    def set_faults(self, **knobs):
        return self.app.set_faults(**knobs)

    def reset_faults(self):
        return self.app.reset_faults()

    def reset(self):
        """Regenerate all data from the seed and clear tokens, keys and faults."""
        self.app.state.reset()

    def update_settings(self, **settings):
        return self.app.update_settings(**settings)

    def advance_clock(self, seconds):
        with self.app.state.lock:
            self.app.state.clock_offset += seconds
