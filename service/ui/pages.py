"""The web UI's routes: login and logout, Flags, Explain, Preview and the stylesheet.

Server-rendered HTML (Jinja2, autoescaped); no script is needed for any form. The key
check for these paths is `service.ui.session.UiGate`, asked by `service.auth.ApiKeyGuard`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from flagkit.client import Flags
from flagkit.publish.tenants import tenants_format_for
from service.auth import key_is_valid
from service.metrics import Metrics
from service.settings import Settings
from service.state import FlagsLoader
from service.ui.explaining import ExplainError, explain_tenant, shown_value, tenant_from_form
from service.ui.flag_summary import summarize_flags
from service.ui.preview import PreviewError, preview_change
from service.ui.session import COOKIE_NAME, COOKIE_PATH, SESSION_SECONDS, SessionSigner

__all__ = ["router"]

_HERE = Path(__file__).parent
_STYLESHEET = (_HERE / "static" / "ui.css").read_bytes()
_WRONG_KEY = "That API key is not valid."
_PAGE_HEADERS = {
    # Only this service's stylesheet loads, forms post only here, no other site frames a page.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    # An explanation's URL holds a tenant and its attributes: never sent to another site.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

router = APIRouter(prefix="/ui", include_in_schema=False)
templates = Jinja2Templates(directory=_HERE / "templates")
templates.env.filters["json"] = shown_value


def _page(request: Request, template: str, code: int = 200, **context: Any) -> Response:
    settings: Settings = request.app.state.settings
    context.setdefault("signed_in", bool(settings.api_keys))
    context["root"] = request.scope.get("root_path", "")
    return templates.TemplateResponse(
        request, template, context, status_code=code, headers=_PAGE_HEADERS
    )


def _served(request: Request) -> Flags | None:
    loader: FlagsLoader = request.app.state.loader
    return loader.flags


def _not_loaded(request: Request, template: str, **context: Any) -> Response:
    loader: FlagsLoader = request.app.state.loader
    reason = f": {loader.error}" if loader.error else ""
    error = f"No flag document is loaded yet{reason}"
    return _page(request, template, 503, errors=[error], **context)


def _redirect(request: Request, path: str) -> RedirectResponse:
    return RedirectResponse(f"{request.scope.get('root_path', '')}{path}", status_code=303)


@router.get("/static/ui.css")
async def stylesheet() -> Response:
    """The one stylesheet; nothing loads from anywhere else."""
    return Response(_STYLESHEET, media_type="text/css", headers={"Cache-Control": "max-age=300"})


@router.get("/login")
async def login_form(request: Request) -> Response:
    """The login form; straight to the Flags page when the service has no keys."""
    settings: Settings = request.app.state.settings
    if not settings.api_keys:
        return _redirect(request, "/ui")
    return _page(request, "login.html", signed_in=False)


@router.post("/login")
async def login(request: Request) -> Response:
    """A valid key sets the session cookie (not the key); a wrong one is the form, 401."""
    settings: Settings = request.app.state.settings
    if not settings.api_keys:
        return _redirect(request, "/ui")
    async with request.form() as form:
        offered = form.get("key")
    keys = tuple(key.encode("utf-8") for key in sorted(settings.api_keys))
    if not isinstance(offered, str) or not key_is_valid(offered.strip().encode("utf-8"), keys):
        return _page(request, "login.html", 401, errors=[_WRONG_KEY], signed_in=False)
    signer: SessionSigner = request.app.state.ui_signer
    response = _redirect(request, "/ui")
    response.set_cookie(
        COOKIE_NAME,
        signer.issue(),
        max_age=SESSION_SECONDS,
        path=_cookie_path(request),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Clear the session cookie; back to the login form."""
    response = _redirect(request, "/ui/login")
    response.delete_cookie(
        COOKIE_NAME, path=_cookie_path(request), httponly=True, samesite="strict"
    )
    return response


@router.get("")
async def flags_page(request: Request) -> Response:
    """Every flag with its state, window, targeting and usage; the document's status."""
    flags = _served(request)
    if flags is None:
        return _not_loaded(request, "flags.html", page="flags")
    metrics: Metrics = request.app.state.metrics
    summaries = summarize_flags(flags.flagset, metrics.evaluation_counts())
    status = flags.status
    return _page(
        request,
        "flags.html",
        page="flags",
        flags=summaries,
        status=status,
        loaded_at=_utc(status.loaded_at),
        usage_since=_utc(metrics.started_at),
    )


@router.get("/explain")
async def explain_page(request: Request) -> Response:
    """The explain form; with `tenant` in the query, every flag's answer and, with `flag`,
    that flag's path step by step."""
    query = request.query_params
    form = {
        "tenant": query.get("tenant", ""),
        "tier": query.get("tier", ""),
        "attributes": query.get("attributes", ""),
        "flag": query.get("flag", ""),
    }
    flags = _served(request)
    if flags is None:
        return _not_loaded(request, "explain.html", page="explain", form=form, keys=())
    keys = tuple(flags.flagset.flags)
    if "tenant" not in query:
        return _page(request, "explain.html", page="explain", form=form, keys=keys)
    try:
        tenant = tenant_from_form(
            form["tenant"], form["tier"], form["attributes"], request.app.state.context_limits
        )
        answers, chosen = explain_tenant(flags.flagset, tenant, form["flag"])
    except ExplainError as exc:
        return _page(
            request, "explain.html", 400, page="explain", form=form, keys=keys, errors=[str(exc)]
        )
    return _page(
        request,
        "explain.html",
        page="explain",
        form=form,
        keys=keys,
        answers=answers,
        chosen=chosen,
        version=flags.version,
    )


@router.get("/preview")
async def preview_form(request: Request) -> Response:
    """The preview form: a candidate document and tenants."""
    return _page(request, "preview.html", page="preview", form={"tenants_format": "auto"})


@router.post("/preview")
async def preview(request: Request) -> Response:
    """The blast radius of the candidate against the served document, as `flagkit diff`
    prints it; every problem of the input, 400, when it cannot be read."""
    async with request.form() as form:  # Closing it closes the uploads' spooled files.
        candidate = await _text(form.get("candidate_file")) or _field(form.get("candidate"))
        upload = form.get("tenants_file")
        tenants = await _text(upload) or _field(form.get("tenants"))
        chosen_format = _field(form.get("tenants_format")) or "auto"
        named = upload.filename if isinstance(upload, UploadFile) and upload.filename else ""
    tenants_format = chosen_format
    if chosen_format == "auto":
        tenants_format = tenants_format_for(named) if named else "text"
    shown = {"candidate": candidate, "tenants": tenants, "tenants_format": chosen_format}
    flags = _served(request)
    if flags is None:
        return _not_loaded(request, "preview.html", page="preview", form=shown)
    try:
        result = preview_change(flags.flagset.document, candidate, tenants, tenants_format)
    except PreviewError as exc:
        return _page(
            request, "preview.html", 400, page="preview", form=shown, errors=list(exc.problems)
        )
    return _page(
        request, "preview.html", page="preview", form=shown, result=result, version=flags.version
    )


def _cookie_path(request: Request) -> str:
    """`/ui`, under the root path the service is served at (`uvicorn --root-path`)."""
    return f"{request.scope.get('root_path', '')}{COOKIE_PATH}"


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def _field(value: object) -> str:
    return value if isinstance(value, str) else ""


async def _text(value: object) -> str:
    """An uploaded file's text ("" when none was chosen)."""
    if not isinstance(value, UploadFile):
        return ""
    content = await value.read()
    return content.decode("utf-8", errors="replace")
