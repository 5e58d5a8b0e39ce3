"""Platform authentication: OAuth2 client credentials, treasury HMAC, API key."""
import hmac

from .common import ApiError, bearer_token, hmac_hex, json_response, raw_request_target, route


class OAuthMixin:
    """OAuth2 client-credentials token endpoint + bearer check for one platform.

    Subclasses set ``name`` and the settings keys of their client id and secret.
    """

    client_id_setting = None
    client_secret_setting = None
    checks_consent = False

    @route("/oauth/token", methods=("POST",), auth=False)
    def oauth_token(self, ctx):
        form = ctx.request.form
        if form.get("grant_type") != "client_credentials":
            raise ApiError(400, "unsupported_grant_type",
                           "grant_type must be client_credentials")
        client_id = form.get("client_id")
        client_secret = form.get("client_secret")
        if not client_id and ctx.request.authorization:
            # Also accept HTTP Basic client authentication (RFC 6749 2.3.1).
            client_id = ctx.request.authorization.username
            client_secret = ctx.request.authorization.password
        settings = ctx.settings
        ok = (client_id == settings[self.client_id_setting]
              and client_secret is not None
              and hmac.compare_digest(str(client_secret).encode("utf-8"),
                                      settings[self.client_secret_setting].encode("utf-8")))
        if not ok:
            raise ApiError(401, "invalid_client", "unknown client or bad secret")
        if self.checks_consent and ctx.state.faults.get("consent_expired"):
            raise ApiError(400, "consent_expired", "the end-user consent has lapsed")
        ttl = int(settings["token_ttl"])
        token = ctx.state.tokens.issue(self.name, client_id, ctx.now, ttl)
        return json_response({"access_token": token, "token_type": "Bearer", "expires_in": ttl},
                             headers={"Cache-Control": "no-store"})

    @route("/api/v1/ping", methods=("GET", "POST"))
    def ping(self, ctx):
        """Sandbox extra: checks auth only."""
        return json_response({"ok": True, "platform": self.name, "caller": ctx.caller})

    def authenticate(self, ctx):
        token = bearer_token(ctx.request)
        if token is None:
            raise ApiError(401, "invalid_token", "missing bearer token",
                           headers={"WWW-Authenticate": "Bearer"})
        client_id = ctx.state.tokens.validate(self.name, token, ctx.now)
        if client_id is None:
            raise ApiError(401, "invalid_token", "token expired or invalid",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        ctx.caller = client_id


def treasury_signature(secret, timestamp, method, target, body):
    """Hex HMAC-SHA256 over ``<ts>.<METHOD>.<path?query>.<raw body>``."""
    message = ("%s.%s.%s." % (timestamp, method.upper(), target)).encode("utf-8") + body
    return hmac_hex(secret, message)


def check_treasury_signature(ctx):
    """Verify X-Api-Key / X-Timestamp / X-Signature; 401 bad_signature or stale_timestamp."""
    headers = ctx.request.headers
    settings = ctx.settings
    key_id = headers.get("X-Api-Key")
    timestamp = headers.get("X-Timestamp")
    signature = headers.get("X-Signature", "")
    if not key_id or not timestamp or not signature:
        raise ApiError(401, "bad_signature", "X-Api-Key, X-Timestamp and X-Signature are required")
    if not hmac.compare_digest(key_id.encode("utf-8"), settings["treasury_key_id"].encode("utf-8")):
        raise ApiError(401, "bad_signature", "unknown API key")
    try:
        ts_value = int(timestamp)
    except ValueError as exc:
        raise ApiError(401, "bad_signature", "X-Timestamp must be unix seconds") from exc
    if abs(ctx.now - ts_value) > settings["treasury_max_skew"]:
        raise ApiError(401, "stale_timestamp",
                       "X-Timestamp is more than %s s from the server clock"
                       % settings["treasury_max_skew"])
    scheme, _, hex_value = signature.partition("=")
    expected = treasury_signature(settings["treasury_secret"], timestamp, ctx.request.method,
                                  raw_request_target(ctx.request), ctx.body)
    if scheme != "sha256" or not hmac.compare_digest(hex_value.lower().encode("ascii", "replace"),
                                                     expected.encode("ascii")):
        raise ApiError(401, "bad_signature",
                       "signature must be sha256=HMAC(secret, '<ts>.<METHOD>.<path?query as sent>."
                       "<raw body>')")
    ctx.caller = key_id


def check_api_key(ctx, expected):
    key = ctx.request.headers.get("X-Api-Key")
    if not key or not hmac.compare_digest(key.encode("utf-8"), expected.encode("utf-8")):
        raise ApiError(401, "invalid_api_key", "missing or unknown X-Api-Key")
    ctx.caller = key
