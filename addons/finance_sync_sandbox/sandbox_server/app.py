"""The WSGI application: routing, common middleware (faults, auth, idempotency) and state."""
import collections
import logging
import random
import threading
import time

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from . import config
from .admin import AdminApi
from .bank import BankApi
from .common import (
    FAULT_DEFAULTS,
    ApiError,
    Context,
    IdempotencyStore,
    TokenStore,
    error_response,
    fault_error_code,
    raw_request_target,
    validate_faults,
)
from .expense import ExpenseApi
from .screening import ScreeningApi
from .treasury import TreasuryApi
from .webhooks import WebhookApi

_logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/_sandbox"


class SandboxState:
    """All in-memory state; one re-entrant lock guards every mutation."""

    def __init__(self, settings, apis):
        self.lock = threading.RLock()
        self.settings = settings
        self._apis = apis
        self.epoch = 0
        self.reset()

    def reset(self):
        """Rebuild every platform's data from the seed and clear faults, tokens and keys."""
        with self.lock:
            self.epoch += 1
            seed = self.settings["seed"]
            self.today = config.parse_today(self.settings["today"])
            self.faults = {k: (list(v) if isinstance(v, list) else v)
                           for k, v in FAULT_DEFAULTS.items()}
            self.fault_rng = random.Random("%s:faults" % seed)
            self.tokens = TokenStore()
            self.idempotency = IdempotencyStore()
            self.clock_offset = 0.0
            self.request_log = collections.deque(maxlen=5000)
            for api in self._apis:
                if api.name:
                    setattr(self, api.name, api.build_state(seed, self.today, self.settings))

    def summary(self):
        with self.lock:
            data = {
                "epoch": self.epoch,
                "seed": self.settings["seed"],
                "today": self.today.isoformat(),
                "clock_offset": self.clock_offset,
                "faults": dict(self.faults),
                "tokens": len(self.tokens.tokens),
                "idempotency_keys": len(self.idempotency.entries),
                "requests": len(self.request_log),
            }
            for api in self._apis:
                if api.name:
                    data[api.name] = getattr(self, api.name).summary()
            return data


class SandboxApp:
    """WSGI app simulating the expense, treasury, bank feed and screening platforms."""

    def __init__(self, seed=None, **settings):
        merged = config.default_settings()
        if seed is not None:
            merged["seed"] = seed
        unknown = set(settings) - set(merged)
        if unknown:
            raise ValueError("unknown sandbox settings: %s" % ", ".join(sorted(unknown)))
        merged.update(settings)
        self.apis = [ExpenseApi(), TreasuryApi(), BankApi(), ScreeningApi(), WebhookApi(),
                     AdminApi()]
        self.url_map = Map(strict_slashes=False, merge_slashes=False)
        self.endpoints = {}
        for api in self.apis:
            for rule in self._rules(api):
                self.url_map.add(rule)
        self.state = SandboxState(merged, self.apis)

    def _rules(self, api):
        for attr in dir(api):
            func = getattr(api, attr)
            info = getattr(func, "route_info", None)
            if info is None:
                continue
            path = info["path"]
            if not path.startswith(ADMIN_PREFIX):
                path = config.PLATFORM_PREFIXES[api.name] + path
            endpoint = "%s.%s" % (type(api).__name__, attr)
            self.endpoints[endpoint] = (api, func, info)
            yield Rule(path, methods=info["methods"] or None, endpoint=endpoint)

    # ------------------------------------------------------------------ helpers
    def now(self):
        """Server clock in unix seconds (real time plus the admin clock offset)."""
        return time.time() + self.state.clock_offset

    def set_faults(self, **knobs):
        """Merge fault knobs (see common.FAULT_DEFAULTS); ``expire_tokens`` acts at once."""
        clean = validate_faults(knobs)
        with self.state.lock:
            if clean.pop("expire_tokens", False):
                self.state.tokens.expire_all()
            self.state.faults.update(clean)
            return dict(self.state.faults)

    def reset_faults(self):
        with self.state.lock:
            self.state.faults = {k: (list(v) if isinstance(v, list) else v)
                                 for k, v in FAULT_DEFAULTS.items()}
            return dict(self.state.faults)

    def update_settings(self, **settings):
        unknown = set(settings) - set(config.default_settings())
        if unknown:
            raise ApiError(400, "unknown_setting",
                           "unknown settings: %s" % ", ".join(sorted(unknown)))
        with self.state.lock:
            self.state.settings.update(settings)
            return dict(self.state.settings)

    def consume_cursor_fault(self):
        """Return True once per armed ``cursor_expire`` knob (called when a cursor is used)."""
        with self.state.lock:
            remaining = int(self.state.faults.get("cursor_expire") or 0)
            if remaining <= 0:
                return False
            self.state.faults["cursor_expire"] = remaining - 1
            return True

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request):
        started = time.monotonic()
        try:
            adapter = self.url_map.bind_to_environ(request.environ)
            endpoint, values = adapter.match()
        except NotFound:
            response = error_response(404, "not_found", "no such endpoint: %s" % request.path)
        except MethodNotAllowed as exc:
            response = error_response(405, "method_not_allowed", "method not allowed",
                                      headers={"Allow": ", ".join(exc.valid_methods or [])})
        else:
            response = self.dispatch(request, endpoint, values)
        correlation_id = request.headers.get("X-Correlation-ID")
        if correlation_id:
            response.headers["X-Correlation-ID"] = correlation_id
        with self.state.lock:
            self.state.request_log.append({
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "correlation_id": correlation_id,
                "idempotency_key": request.headers.get("Idempotency-Key"),
                "ms": round((time.monotonic() - started) * 1000, 1),
            })
        return response

    def dispatch(self, request, endpoint, values):
        api, func, info = self.endpoints[endpoint]
        ctx = Context(self, request, api.name)
        malformed = False
        try:
            if not request.path.startswith(ADMIN_PREFIX + "/"):
                injected = self._apply_faults(request, func)
                if injected == "malformed":
                    malformed = True
                elif injected is not None:
                    return injected
            if info["auth"]:
                with self.state.lock:
                    api.authenticate(ctx)
            if info["locked"]:
                with self.state.lock:
                    response = self._run(ctx, func, info, values)
            else:
                response = self._run(ctx, func, info, values)
        except ApiError as exc:
            return exc.response()
        except Exception:
            _logger.exception("sandbox handler %s failed", endpoint)
            return error_response(500, "internal_error", "unexpected sandbox error")
        if malformed and 200 <= response.status_code < 300:
            body = response.get_data()
            response.set_data(body[: max(1, len(body) // 2)])
        return response

    def _run(self, ctx, func, info, values):
        key = ctx.request.headers.get("Idempotency-Key")
        if not (info["idempotent"] and key):
            return func(ctx, **values)
        store = self.state.idempotency
        scope = "%s %s" % (ctx.request.method, info["path"])
        caller = ctx.caller or ""
        fingerprint = store.fingerprint(raw_request_target(ctx.request), ctx.body)
        entry = store.lookup(scope, caller, key, fingerprint)
        if entry is not None:
            return store.replay(entry)
        response = func(ctx, **values)
        store.remember(scope, caller, key, fingerprint, response, ctx.now)
        return response

    def _apply_faults(self, request, func):
        """Latency, scripted ``fail_next`` and random 5xx/429/malformed faults.

        Returns None (proceed), "malformed" (proceed, then truncate) or an error response.
        """
        with self.state.lock:
            faults = self.state.faults
            prefix = faults.get("path_prefix")
            if prefix and not request.path.startswith(prefix):
                return None
            if func.__name__ == "oauth_token" and not faults.get("include_auth"):
                return None
            latency = faults.get("latency_ms") or 0
            outcome = None
            if faults.get("fail_next"):
                outcome = faults["fail_next"].pop(0)
            else:
                rng = self.state.fault_rng
                if faults.get("error_5xx_rate") and rng.random() < faults["error_5xx_rate"]:
                    outcome = 503
                elif faults.get("rate_limit_rate") and rng.random() < faults["rate_limit_rate"]:
                    outcome = 429
                elif faults.get("malformed_rate") and rng.random() < faults["malformed_rate"]:
                    outcome = "malformed"
            retry_after = faults.get("retry_after", 1)
        if latency:
            time.sleep(latency / 1000.0)
        if outcome is None or outcome == "malformed":
            return outcome
        if 200 <= outcome < 300:
            return None
        headers = {"Retry-After": str(retry_after)} if outcome == 429 else None
        return error_response(outcome, fault_error_code(outcome), "injected fault",
                              headers=headers)


def create_app(seed=None, **settings):
    """Build a SandboxApp (a WSGI callable)."""
    return SandboxApp(seed=seed, **settings)
