"""The web UI (`flagkit serve --ui`, FLAGKIT_UI=1): Flags, Explain and Preview pages under /ui.

`install_ui(app, settings)` adds its routes and returns the gate `service.auth.ApiKeyGuard`
asks about `/ui` paths when API keys are set: a login form sets a signed session cookie
(`service.ui.session`). docs/ui.md describes it for users.
"""

from __future__ import annotations

from fastapi import FastAPI

from service.auth import Gate
from service.settings import Settings

__all__ = ["install_ui"]


def install_ui(app: FastAPI, settings: Settings) -> dict[str, Gate]:
    """Add the UI's routes to `app`; the `{prefix: gate}` the key check needs for them."""
    from service.ui.pages import router
    from service.ui.session import UI_PREFIX, SessionSigner, UiGate

    signer = app.state.ui_signer = SessionSigner(settings.api_keys)
    app.include_router(router)
    return {UI_PREFIX: UiGate(signer)}
