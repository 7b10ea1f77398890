"""The web UI's login session: a signed, expiring token in an HttpOnly cookie, never the key.

A token is `EXPIRY.SIGNATURE`: the Unix time it expires at and an HMAC-SHA256 of that
time under a secret derived from the configured API keys. Every worker process derives
the same secret from the same keys, so any worker accepts a token another one issued;
changing the keys signs everybody out. The key itself never leaves the login form.

`UiGate` is what `service.auth.ApiKeyGuard` asks about every path under `/ui` when API
keys are configured: the login page and the stylesheet are open, everything else needs
a valid session cookie (else it redirects to the login page).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie

from starlette.responses import RedirectResponse, Response
from starlette.types import Scope

from service.auth import route_path

__all__ = [
    "COOKIE_NAME",
    "COOKIE_PATH",
    "LOGIN_PATH",
    "SESSION_SECONDS",
    "UI_PREFIX",
    "SessionSigner",
    "UiGate",
    "session_cookie",
]

UI_PREFIX = "/ui"
LOGIN_PATH = "/ui/login"
COOKIE_NAME = "flagkit_ui"
COOKIE_PATH = "/ui"
SESSION_SECONDS = 8 * 3600
"""How long a login lasts: a working day."""

_OPEN_PATHS = frozenset({LOGIN_PATH})
_OPEN_PREFIX = "/ui/static/"


class SessionSigner:
    """Issues and checks session tokens with a secret derived from `keys`."""

    def __init__(self, keys: frozenset[str], clock: Callable[[], float] = time.time) -> None:
        material = b"\0".join(sorted(key.encode("utf-8") for key in keys))
        self._secret = hmac.new(b"flagkit-ui-session-v1", material, hashlib.sha256).digest()
        self._clock = clock

    def issue(self) -> str:
        """A token valid for `SESSION_SECONDS` from now."""
        expiry = str(int(self._clock()) + SESSION_SECONDS)
        return f"{expiry}.{self._sign(expiry)}"

    def is_valid(self, token: str) -> bool:
        """Whether `token` was issued with these keys and has not expired."""
        expiry, dot, signature = token.partition(".")
        if not dot or not expiry.isdigit():
            return False
        expected = self._sign(expiry).encode("ascii")
        if not hmac.compare_digest(signature.encode("ascii", "replace"), expected):
            return False
        return int(expiry) > self._clock()

    def _sign(self, expiry: str) -> str:
        return hmac.new(self._secret, expiry.encode("ascii"), hashlib.sha256).hexdigest()


def session_cookie(scope: Scope) -> str | None:
    """The session cookie a request carries, if any."""
    for name, value in scope["headers"]:
        if name == b"cookie":
            cookies = SimpleCookie()
            try:
                cookies.load(value.decode("latin-1"))
            except CookieError:  # A malformed Cookie header is no session.
                return None
            morsel = cookies.get(COOKIE_NAME)
            if morsel is not None:
                return morsel.value
    return None


class UiGate:
    """Lets a request under `/ui` through (None) or redirects it to the login page."""

    def __init__(self, signer: SessionSigner) -> None:
        self.signer = signer

    def __call__(self, scope: Scope) -> Response | None:
        """None when the path is open or the session cookie is valid; else a 303 to login."""
        path = route_path(scope)
        if path in _OPEN_PATHS or path.startswith(_OPEN_PREFIX):
            return None
        token = session_cookie(scope)
        if token is not None and self.signer.is_valid(token):
            return None
        root = scope.get("root_path", "")
        return RedirectResponse(f"{root}{LOGIN_PATH}", status_code=303)
