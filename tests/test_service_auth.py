"""The API-key guard sees the path the router sees: behind a root path, mounted, or added later."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp

from flagkit import Flags
from service.app import create_app
from service.settings import Settings
from tests.conftest import EXAMPLES

KEY = "k-5f1c2b"
ACME = {"context": {"targetingKey": "acme"}}


def ask(
    app: ASGIApp, method: str, path: str, *, root_path: str = "", key: str | None = None
) -> httpx.Response:
    """One request through the ASGI interface (no socket), from a non-loopback host."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, root_path=root_path)
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://192.0.2.2") as http:
            return await http.request(method, path, json=ACME, headers=headers)

    return asyncio.run(send())


@pytest.fixture
def flags() -> Flags:
    return Flags.from_file(EXAMPLES / "flags.json")


ROUTES = [
    ("POST", "/ofrep/v1/evaluate/flags/featureA"),
    ("POST", "/ofrep/v1/evaluate/flags"),
    ("GET", "/v1/flags/featureA?tenant=acme"),
    ("GET", "/v1/tenants/acme/flags"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_root_path_does_not_open_the_evaluation_routes(
    flags: Flags, method: str, path: str
) -> None:
    app = create_app(Settings(api_keys=frozenset({KEY})), flags=flags)
    refused = ask(app, method, "/flags" + path, root_path="/flags")
    assert refused.status_code == 401
    assert ask(app, method, "/flags" + path, root_path="/flags", key=KEY).status_code == 200
    assert ask(app, "GET", "/flags/healthz", root_path="/flags").status_code == 200


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_mounted_app_is_guarded_too(flags: Flags, method: str, path: str) -> None:
    outer = Starlette(routes=[Mount("/flags", app=create_app(Settings(), flags=flags))])
    refused = ask(outer, method, "/flags" + path)  # no keys, and not on loopback
    assert refused.status_code == 403
    assert refused.json()["errorDetails"].startswith("this service has no API keys")


def test_a_route_added_later_is_guarded_unless_listed_as_open(flags: Flags) -> None:
    app = create_app(Settings(api_keys=frozenset({KEY})), flags=flags)
    app.add_api_route("/admin/reload", lambda: {"reloaded": True}, methods=["POST"])
    assert ask(app, "POST", "/admin/reload").status_code == 401
    assert ask(app, "POST", "/admin/reload", key=KEY).json() == {"reloaded": True}
    for open_path in ("/healthz", "/readyz", "/openapi.json"):
        assert ask(app, "GET", open_path).status_code == 200, open_path
    for guarded_path in ("/metrics", "/v1/status"):
        assert ask(app, "GET", guarded_path).status_code == 401, guarded_path


def test_unknown_paths_need_a_key_before_they_are_not_found(flags: Flags) -> None:
    app = create_app(Settings(api_keys=frozenset({KEY})), flags=flags)
    assert ask(app, "GET", "/v2/anything").status_code == 401
    assert ask(app, "GET", "/v2/anything", key=KEY).status_code == 404


def test_a_tenant_id_with_a_slash_reaches_its_flags(flags: Flags) -> None:
    app = create_app(Settings(allow_unauthenticated=True), flags=flags)
    response = ask(app, "GET", "/v1/tenants/team%2Facme/flags")
    assert response.status_code == 200
    assert response.json()["tenant"] == "team/acme"


def test_an_unexpected_error_is_a_json_500_without_details(flags: Flags) -> None:
    app = create_app(Settings(allow_unauthenticated=True), flags=flags)

    def broken() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/v1/broken", broken)

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://192.0.2.2") as http:
            return await http.get("/v1/broken")

    response = asyncio.run(send())
    assert response.status_code == 500
    assert response.json() == {"errorDetails": "an internal error occurred; the server log has it"}


def test_the_single_flag_route_is_served_in_front_of_fastapis_router_and_documented(
    flags: Flags,
) -> None:
    from starlette.routing import Route

    from service.routes import ofrep

    app = create_app(Settings(allow_unauthenticated=True), flags=flags)
    first = app.router.routes[0]
    assert isinstance(first, Route)
    assert (first.path, first.endpoint) == (ofrep.SINGLE_FLAG_PATH, ofrep.evaluate_flag)
    assert "post" in app.openapi()["paths"][ofrep.SINGLE_FLAG_PATH]
    assert ask(app, "POST", "/ofrep/v1/evaluate/flags/featureA").json()["value"] is True
    assert ask(app, "GET", "/ofrep/v1/evaluate/flags/featureA").status_code == 405


def test_cors_lets_a_browser_provider_preflight_and_read_the_etag(flags: Flags) -> None:
    app = create_app(
        Settings(api_keys=frozenset({KEY}), cors_origins=("https://app.example",)), flags=flags
    )

    async def send() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://192.0.2.2") as http:
            preflight = await http.options(
                "/ofrep/v1/evaluate/flags",
                headers={
                    "Origin": "https://app.example",
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type",
                },
            )
            bulk = await http.post(
                "/ofrep/v1/evaluate/flags",
                json=ACME,
                headers={"Origin": "https://app.example", "Authorization": f"Bearer {KEY}"},
            )
            stranger = await http.options(
                "/ofrep/v1/evaluate/flags",
                headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
            )
            return preflight, bulk, stranger

    preflight, bulk, stranger = asyncio.run(send())
    assert preflight.status_code == 200  # answered before the key check: preflights carry none
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert bulk.status_code == 200
    assert bulk.headers["access-control-allow-origin"] == "https://app.example"
    assert "etag" in bulk.headers["access-control-expose-headers"].lower()
    assert stranger.status_code == 400
    assert "access-control-allow-origin" not in stranger.headers


def test_no_cors_headers_unless_origins_are_configured(flags: Flags) -> None:
    app = create_app(Settings(api_keys=frozenset({KEY})), flags=flags)
    response = ask(app, "POST", "/ofrep/v1/evaluate/flags", key=KEY)
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
