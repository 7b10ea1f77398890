"""The web UI over real HTTP (uvicorn on loopback): the login and its cookie, the Flags,
Explain and Preview pages, and every bad input answered on the page with 400."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit import Flags
from flagkit.errors import ConfigurationError
from flagkit.explain import explain
from flagkit.refresh_status import FlagsStatus
from service.app import create_app
from service.settings import Settings
from service.ui.session import SESSION_SECONDS, SessionSigner
from tests.conftest import EXAMPLES
from tests.helpers import run_flagkit, wait_until, write
from tests.service_server import START_TIMEOUT, LiveServer, live, serve_cli
from tests.strategies import UTF8_CHARACTERS, mutated_documents

KEY = "ui-key-7c1d"
DOCUMENT = json.loads((EXAMPLES / "flags.json").read_text())
TENANTS = (EXAMPLES / "shop-tenants.txt").read_text()


def _served_version() -> str | None:
    with Flags.from_file(EXAMPLES / "flags.json") as served:
        return served.version


DOCUMENT_VERSION = _served_version()


@pytest.fixture
def flags() -> Iterator[Flags]:
    with Flags.from_file(EXAMPLES / "flags.json") as served:
        yield served


@pytest.fixture
def server(flags: Flags) -> Iterator[LiveServer]:
    with live(flags, ui=True, api_keys=frozenset({KEY})) as running:
        yield running


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    """A client logged in to the UI."""
    with server.client() as http:
        response = http.post("/ui/login", data={"key": KEY})
        assert response.status_code == 303
        yield http


def alerts(page: str) -> list[str]:
    """The error messages a page shows, as a person reads them."""
    box = re.search(r'<div class="errors" role="alert">(.*?)</div>', page, re.S)
    if box is None:
        return []
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", box.group(1), re.S)]


def readable(fragment: str) -> str:
    """HTML as a person reads it: inline tags dropped, blocks apart, whitespace collapsed."""
    inline = re.sub(r"</?(?:code|a|strong)\b[^>]*>", "", fragment)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def text_of(page: str, element_id: str) -> str:
    """The text inside the element with this id."""
    found = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert found is not None, f"no #{element_id} in the page"
    return readable(found.group(2))


def row(page: str, flag: str) -> str:
    """The text of a table row about `flag`."""
    found = re.search(rf'<tr data-flag="{flag}">(.*?)</tr>', page, re.S)
    assert found is not None, f"no row for {flag}"
    return readable(found.group(1))


# -- switching it on ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, False), ({"FLAGKIT_UI": "1"}, True), ({"FLAGKIT_UI": "0"}, False)],
    ids=["unset", "on", "off"],
)
def test_flagkit_ui_switches_the_ui(environ: dict[str, str], expected: bool) -> None:
    assert Settings.from_env({"FLAGKIT_SOURCE": "f.json", **environ}).ui is expected


def test_a_bad_flagkit_ui_value_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env({"FLAGKIT_UI": "maybe"})
    assert str(raised.value) == "FLAGKIT_UI must be 1 or 0, got 'maybe'"


def test_the_ui_is_off_unless_asked_for(flags: Flags) -> None:
    with live(flags) as server, server.client() as http:
        assert http.get("/ui").status_code == 404
    with live(flags, ui=True) as server, server.client() as http:
        assert http.get("/ui").status_code == 200


@pytest.mark.parametrize(
    ("args", "env", "status"),
    [((), {}, 404), (("--ui",), {}, 200), ((), {"FLAGKIT_UI": "1"}, 200)],
    ids=["off", "--ui", "FLAGKIT_UI"],
)
def test_flagkit_serve_serves_the_ui_when_asked(
    args: tuple[str, ...], env: dict[str, str], status: int
) -> None:
    source = {"FLAGKIT_SOURCE": str(EXAMPLES / "flags.json")}
    with serve_cli(*args, env={**source, **env}) as server, server.client() as http:
        assert http.get("/ui").status_code == status


def test_the_ui_is_not_in_the_openapi_document(server: LiveServer) -> None:
    with server.client() as http:
        paths = http.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/ui")]


# -- logging in -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/ui", "/ui/explain?tenant=acme", "/ui/preview"], ids=["flags", "explain", "preview"]
)
def test_without_a_session_every_page_leads_to_the_login_form(
    server: LiveServer, path: str
) -> None:
    with server.client() as http:
        response = http.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/login"
        form = http.get("/ui/login")
        stylesheet = http.get("/ui/static/ui.css")  # The login form's own look.
    assert form.status_code == 200
    assert '<label for="key">API key</label>' in form.text
    assert 'type="password"' in form.text
    assert stylesheet.status_code == 200


def test_a_wrong_key_gets_the_form_again_with_an_error_and_401(server: LiveServer) -> None:
    with server.client() as http:
        response = http.post("/ui/login", data={"key": "not-" + KEY})
        assert response.status_code == 401
        assert alerts(response.text) == ["That API key is not valid."]
        assert "set-cookie" not in response.headers
        assert http.get("/ui").status_code == 303  # Still not logged in.


def test_a_right_key_sets_a_signed_http_only_strict_cookie_that_is_not_the_key(
    server: LiveServer,
) -> None:
    with server.client() as http:
        response = http.post("/ui/login", data={"key": KEY})
        assert response.status_code == 303
        assert response.headers["location"] == "/ui"
        cookie = response.headers["set-cookie"]
        assert KEY not in cookie
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"httponly", "samesite", "path", "max-age"} <= attributes
        assert "SameSite=strict" in cookie
        assert "Path=/ui" in cookie
        assert f"Max-Age={SESSION_SECONDS}" in cookie
        assert "secure" not in attributes  # Plain http on loopback: a Secure cookie is lost.
        page = http.get("/ui")
    assert page.status_code == 200
    assert text_of(page.text, "version") == DOCUMENT_VERSION


def test_the_cookie_is_secure_when_the_request_came_over_https(server: LiveServer) -> None:
    # uvicorn trusts X-Forwarded-Proto from loopback: a TLS proxy in front of the service.
    with server.client() as http:
        response = http.post("/ui/login", data={"key": KEY}, headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 303
    assert "; secure" in response.headers["set-cookie"].lower()


def test_a_session_is_good_for_every_worker_with_the_same_keys(flags: Flags) -> None:
    with (
        live(flags, ui=True, api_keys=frozenset({KEY, "other"})) as first,
        live(flags, ui=True, api_keys=frozenset({"other", KEY})) as second,
        live(flags, ui=True, api_keys=frozenset({"changed"})) as rekeyed,
        first.client() as http,
    ):
        http.post("/ui/login", data={"key": KEY})
        cookies = {"flagkit_ui": http.cookies["flagkit_ui"]}
        with second.client(cookies=cookies) as other:
            assert other.get("/ui").status_code == 200
        with rekeyed.client(cookies=cookies) as other:
            assert other.get("/ui").status_code == 303


@pytest.mark.parametrize(
    "token",
    [
        KEY,
        "9999999999.0000",
        "notanumber.abc",
        SessionSigner(frozenset({KEY}), clock=lambda: 0.0).issue(),  # expired long ago
        SessionSigner(frozenset({"another"})).issue(),
    ],
    ids=["the-key-itself", "forged", "malformed", "expired", "other-keys"],
)
def test_a_forged_or_expired_session_is_refused(server: LiveServer, token: str) -> None:
    with server.client(cookies={"flagkit_ui": token}) as http:
        assert http.get("/ui").status_code == 303


def test_logout_clears_the_cookie(client: httpx.Client) -> None:
    response = client.post("/ui/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login"
    cleared = response.headers["set-cookie"]
    assert cleared.startswith('flagkit_ui="";')
    assert "Max-Age=0" in cleared
    assert client.get("/ui").status_code == 303


def test_the_api_key_header_does_not_stand_in_for_a_session(server: LiveServer) -> None:
    # The UI follows its cookie; the key goes only into the login form, never a URL.
    with server.client(headers={"Authorization": f"Bearer {KEY}"}) as http:
        assert http.get("/ui").status_code == 303
        assert http.get(f"/ui/login?key={KEY}").status_code == 200
        assert http.get("/ui").status_code == 303


def test_a_keyless_loopback_service_needs_no_login(flags: Flags) -> None:
    with live(flags, ui=True) as server, server.client() as http:
        assert http.get("/ui").status_code == 200
        login = http.get("/ui/login")
        assert (login.status_code, login.headers["location"]) == (303, "/ui")
        assert "Log out" not in http.get("/ui").text
        # Another name in Host (DNS rebinding) is refused as on every route.
        assert http.get("/ui", headers={"Host": "evil.example"}).status_code == 421


# -- the pages ------------------------------------------------------------------------------


def test_the_flags_page_shows_every_flag_state_targeting_and_usage(
    client: httpx.Client,
) -> None:
    for tenant in ("acme", "globex", "initech"):
        assert client.get(f"/v1/flags/bulkExport?tenant={tenant}").status_code == 401
    with httpx.Client(base_url=str(client.base_url), headers={"X-API-Key": KEY}) as api:
        for tenant in ("acme", "globex", "umbrella"):
            assert api.get(f"/v1/flags/bulkExport?tenant={tenant}").status_code == 200
    page = client.get("/ui")
    assert page.status_code == 200
    assert text_of(page.text, "version") == DOCUMENT_VERSION
    assert text_of(page.text, "staleness") == "current"
    assert row(page.text, "aiSummaries") == (
        "aiSummaries Kill-switched while the model provider is degraded. "
        "killed (enabled: false) none tiers enterprise, pro 0"
    )
    assert row(page.text, "featureA") == (
        "featureA New checkout flow on none requires payments; 1 excluded tenant; "
        "tenants acme; segments design-partners; tiers enterprise; 25% of tenants 0"
    )
    assert row(page.text, "bulkExport") == (
        "bulkExport On for everyone but one tenant with a known data problem. on none "
        "1 excluded tenant 3 on · STATIC: 2 off · TARGETING_MATCH: 1"
    )
    assert row(page.text, "payments").endswith("on none everyone 0")


@pytest.mark.skipif(
    "overrides" not in FlagsStatus.__dataclass_fields__,
    reason="this flagkit has no local overrides (docs/overrides.md) yet",
)
def test_the_flags_page_shows_the_overrides_in_force() -> None:
    forced = {"featureA": {"enabled": False}, "bulkExport": {"enabled": True}}
    options: dict[str, Any] = {"overrides": forced}
    with (
        Flags.from_file(EXAMPLES / "flags.json", **options) as flags,
        live(flags, ui=True) as server,
        server.client() as http,
    ):
        page = http.get("/ui").text
    assert text_of(page, "overrides") == "2 flags forced by memory"


def test_the_flags_page_shows_a_launch_window(tmp_path: Path) -> None:
    document = {
        "launch": {
            "enabled": True,
            "activeFrom": "2999-01-01T00:00:00Z",
            "activeUntil": "2999-02-01T00:00:00Z",
        },
        "over": {"enabled": True, "activeUntil": "2001-01-01T00:00:00Z"},
    }
    with (
        Flags.from_dict(document) as flags,
        live(flags, ui=True) as server,
        server.client() as http,
    ):
        page = http.get("/ui").text
    assert row(page, "launch") == (
        "launch scheduled 2999-01-01T00:00:00Z → 2999-02-01T00:00:00Z everyone 0"
    )
    assert row(page, "over") == "over ended … → 2001-01-01T00:00:00Z everyone 0"


def test_explain_shows_every_flag_and_one_flag_step_by_step(
    client: httpx.Client, flags: Flags
) -> None:
    page = client.get(
        "/ui/explain",
        params={
            "tenant": "zeta",
            "tier": "free",
            "attributes": "region=eu-west-1\n\n",
            "flag": "featureA",
        },
    )
    assert page.status_code == 200
    assert row(page.text, "aiSummaries") == (
        "aiSummaries false off DISABLED kill switch: aiSummaries is switched off "
        "(enabled: false) for every tenant"
    )
    assert row(page.text, "checkoutTheme").startswith('checkoutTheme {"primaryColor":')
    expected = explain(flags.flagset, "featureA", {"targetingKey": "zeta", "tier": "free"})
    bucket = next(step.bucket for step in expected.steps if step.bucket is not None)
    steps = text_of(page.text, "steps")
    assert steps.startswith(
        f"Why featureA is {json.dumps(expected.evaluation.value)} for zeta "
        "kill switch passed featureA is enabled "
        "launch window skipped: not used by this flag featureA has no launch window "
        "prerequisites passed every prerequisite is on: payments payments: on (STATIC, static) "
    )
    inside = "inside" if bucket.inside else "outside"
    assert (
        f"bucket {bucket.rank} of 10000, threshold 2500: {inside} (hashing zeta with salt featureA)"
    ) in steps
    deciding = expected.deciding_step
    assert deciding is not None
    assert deciding.name == "percentage"
    assert row(page.text, "featureA").endswith(f"percentage: {deciding.sentence}")


def test_explain_shows_each_condition_of_a_rule(client: httpx.Client) -> None:
    page = client.get(
        "/ui/explain",
        params={"tenant": "acme", "attributes": "region=eu-west-1", "flag": "checkoutTheme"},
    )
    steps = text_of(page.text, "steps")
    assert (
        'region in ["eu-west-1", "eu-central-1"]: "eu-west-1" → holds '
        'id inSegment "beta-customers": "acme" → holds'
    ) in steps
    assert row(page.text, "checkoutTheme").split(" TARGETING_MATCH ")[0].endswith("fresh")


def test_explaining_is_not_counted_as_usage(client: httpx.Client) -> None:
    client.get("/ui/explain", params={"tenant": "acme"})
    with httpx.Client(base_url=str(client.base_url), headers={"X-API-Key": KEY}) as api:
        usage = api.get("/v1/usage").json()
    assert [flag["evaluations"] for flag in usage["flags"]] == [0] * len(usage["flags"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"tenant": "acme", "flag": "nope"},
            f"no flag 'nope' in the served document (version {DOCUMENT_VERSION})",
        ),
        (
            {"tenant": "acme", "attributes": "plan"},
            "attribute line 'plan' must look like KEY=VALUE",
        ),
        (
            {"tenant": "acme", "attributes": "=pro"},
            "attribute line '=pro' must look like KEY=VALUE",
        ),
        (
            {"tenant": "x" * 2000},
            "context.targetingKey: 2000 characters is longer than the limit of 1024",
        ),
    ],
    ids=["unknown-flag", "no-equals", "no-key", "too-long"],
)
def test_bad_explain_input_is_a_400_page_that_keeps_the_form(
    client: httpx.Client, params: dict[str, str], message: str
) -> None:
    page = client.get("/ui/explain", params=params)
    assert page.status_code == 400
    assert alerts(page.text) == [message]
    assert f'value="{html.escape(params["tenant"])}"' in page.text
    assert "answers" not in page.text.split("</form>")[1]


def test_preview_shows_the_blast_radius_flagkit_diff_prints(
    client: httpx.Client, tmp_path: Path
) -> None:
    candidate = {**DOCUMENT, "featureA": {**DOCUMENT["featureA"], "percentage": 75}}
    candidate["bulkExport"] = {**DOCUMENT["bulkExport"], "excludedTenants": ["globex"]}
    page = client.post(
        "/ui/preview",
        data={"candidate": json.dumps(candidate), "tenants": TENANTS, "tenants_format": "auto"},
    )
    assert page.status_code == 200, alerts(page.text)
    cli = run_flagkit(
        "diff",
        str(EXAMPLES / "flags.json"),
        str(write(tmp_path, "candidate.json", candidate)),
        "--tenants",
        str(EXAMPLES / "shop-tenants.txt"),
    )
    assert cli.returncode == 3, cli.stderr
    shown = re.search(r'<pre id="diff">(.*?)</pre>', page.text, re.S)
    assert shown is not None
    assert html.unescape(shown.group(1)) + "\n" == cli.stdout
    # The diff says something:
    assert "bulkExport: +1 tenant, -1 tenant (changed: excludedTenants)" in cli.stdout


def test_preview_shows_the_candidate_s_warnings(client: httpx.Client) -> None:
    candidate = {**DOCUMENT, "_segment": {}}
    page = client.post("/ui/preview", data={"candidate": json.dumps(candidate), "tenants": ""})
    assert page.status_code == 200
    warnings = re.findall(r'<p class="warn">(.*?)</p>', page.text)
    assert [html.unescape(warning) for warning in warnings] == [
        'candidate document: warning: _segment: unknown key; did you mean "_segments"?'
    ]


def test_preview_takes_uploaded_files_and_reads_the_format_from_the_name(
    client: httpx.Client,
) -> None:
    candidate = {**DOCUMENT, "payments": {"enabled": False}}
    tenants = '{"id": "acme", "tier": "enterprise"}\n{"id": "globex"}\n'
    page = client.post(
        "/ui/preview",
        data={"tenants_format": "auto"},
        files={
            "candidate_file": ("candidate.json", json.dumps(candidate), "application/json"),
            "tenants_file": ("tenants.jsonl", tenants, "application/x-ndjson"),
        },
    )
    assert page.status_code == 200, alerts(page.text)
    assert "(2 tenants)" in text_of(page.text, "blast-title")
    assert "payments: -2 tenants (changed: description, enabled)" in text_of(page.text, "diff")


@pytest.mark.parametrize(
    ("form", "messages"),
    [
        (
            {"candidate": '{"x": 1', "tenants": ""},
            [
                "candidate document: (document): not valid JSON: Expecting ',' delimiter at "
                "line 1 column 8"
            ],
        ),
        (
            {"candidate": '{"featureA": {"enabled": "yes"}}', "tenants": ""},
            ["candidate document: featureA.enabled: \"yes\" is not of type 'boolean'"],
        ),
        (
            {"candidate": "", "tenants": "acme"},
            ["candidate document: paste or upload a flag document"],
        ),
        (
            {"candidate": '{"payments": {"enabled": true}}', "tenants": "acme\nacme"},
            [
                "tenants:2: tenant 'acme' is listed again (first on line 1); expected each "
                "tenant once"
            ],
        ),
        (
            {"candidate": "", "tenants": "a b c"},
            [
                "candidate document: paste or upload a flag document",
                "tenants:1: 'a b c' has 3 words; expected `ID` or `ID TIER` (a tenant id, then "
                "optionally its tier); for attributes, write a .jsonl or .csv tenants file",
            ],
        ),
        (
            {"candidate": "{}", "tenants": "", "tenants_format": "yaml"},
            ["unknown tenants format 'yaml'; expected text, jsonl or csv"],
        ),
    ],
    ids=["not-json", "invalid-document", "no-candidate", "tenant-twice", "both-bad", "bad-format"],
)
def test_bad_preview_input_is_a_400_page_that_keeps_what_was_pasted(
    client: httpx.Client, form: dict[str, str], messages: list[str]
) -> None:
    page = client.post("/ui/preview", data=form)
    assert page.status_code == 400
    assert alerts(page.text) == messages
    kept = re.search(r'<textarea id="candidate"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert kept is not None
    assert html.unescape(kept.group(1)) == form["candidate"]
    assert 'id="diff"' not in page.text
    # The served document is untouched: the Flags page still shows it.
    assert text_of(client.get("/ui").text, "version") == DOCUMENT_VERSION


def test_a_preview_larger_than_the_body_limit_is_refused(flags: Flags) -> None:
    with (
        live(flags, ui=True, api_keys=frozenset({KEY}), max_body_bytes=4096) as server,
        server.client() as http,
    ):
        http.post("/ui/login", data={"key": KEY})
        response = http.post("/ui/preview", data={"candidate": "x" * 5000, "tenants": ""})
    assert response.status_code == 413


def test_every_page_loads_only_from_the_service(client: httpx.Client) -> None:
    pages: list[Any] = [
        client.get("/ui"),
        client.get("/ui/explain", params={"tenant": "acme", "flag": "featureA"}),
        client.get("/ui/preview"),
        client.get("/ui/login"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == (
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        )
        assert page.headers["referrer-policy"] == "same-origin"
        linked = re.findall(r'(?:src|href|action)="([^"]*)"', page.text)
        assert linked
        assert [link for link in linked if re.match(r"\w+:|//", link)] == []
        assert "<script" not in page.text
    stylesheet = client.get("/ui/static/ui.css")
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert "url(" not in stylesheet.text
    assert "@import" not in stylesheet.text


def test_every_input_has_a_label(client: httpx.Client) -> None:
    for path in ("/ui/explain", "/ui/preview", "/ui/login"):
        page = client.get(path).text
        ids = re.findall(r'<(?:input|textarea|select)[^>]* id="([^"]+)"', page)
        controls = re.findall(r"<(?:input|textarea|select)\b", page)
        assert len(ids) == len(controls)
        for control in ids:
            assert f'<label for="{control}">' in page, (path, control)


def test_behind_a_root_path_the_cookie_and_the_redirects_carry_it(flags: Flags) -> None:
    app = create_app(Settings(ui=True, api_keys=frozenset({KEY})), flags=flags)

    async def visit() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app, root_path="/flags")
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            page = await http.get("/flags/ui")
            login = await http.post("/flags/ui/login", data={"key": KEY})
            return page, login

    page, login = asyncio.run(visit())
    assert (page.status_code, page.headers["location"]) == (303, "/flags/ui/login")
    assert (login.status_code, login.headers["location"]) == (303, "/flags/ui")
    assert "Path=/flags/ui;" in login.headers["set-cookie"]


@pytest.mark.parametrize("path", ["/ui", "/ui/explain?tenant=acme"], ids=["flags", "explain"])
def test_before_a_document_loads_the_pages_say_why_with_503(tmp_path: Path, path: str) -> None:
    missing = tmp_path / "missing.json"
    with live(ui=True, source=str(missing)) as server, server.client() as http:
        assert server.app is not None
        loader = server.app.state.loader
        assert wait_until(lambda: loader.error is not None, START_TIMEOUT)
        page = http.get(path)
    assert page.status_code == 503
    assert alerts(page.text) == [
        "No flag document is loaded yet: no flag document to start from:\n"
        f"  file:{missing}: cannot read flag document {str(missing)!r}: No such file or directory"
    ]


# -- never a 500 ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_client() -> Iterator[httpx.Client]:
    """One logged-in client on one server for every example of the properties below."""
    with (
        Flags.from_file(EXAMPLES / "flags.json") as served,
        live(served, ui=True, api_keys=frozenset({KEY})) as server,
        server.client() as http,
    ):
        http.post("/ui/login", data={"key": KEY})
        yield http


_TEXT = st.text(UTF8_CHARACTERS, max_size=200)


@given(
    candidate=st.one_of(
        _TEXT, mutated_documents().map(lambda document: json.dumps(document, ensure_ascii=False))
    ),
    tenants=_TEXT,
    tenants_format=st.sampled_from(["auto", "text", "jsonl", "csv"]),
)
def test_any_preview_input_is_a_diff_or_a_400_with_its_problems(
    shared_client: httpx.Client, candidate: str, tenants: str, tenants_format: str
) -> None:
    form = {"candidate": candidate, "tenants": tenants, "tenants_format": tenants_format}
    page = shared_client.post("/ui/preview", data=form)
    assert page.status_code in (200, 400), page.text
    assert (page.status_code == 400) == bool(alerts(page.text))
    assert (page.status_code == 200) == ('id="diff"' in page.text)


@given(tenant=_TEXT, tier=_TEXT, attributes=_TEXT, flag=st.sampled_from(["", "featureA", "x"]))
def test_any_explain_input_is_an_answer_or_a_400_with_its_problem(
    shared_client: httpx.Client, tenant: str, tier: str, attributes: str, flag: str
) -> None:
    params = {"tenant": tenant, "tier": tier, "attributes": attributes, "flag": flag}
    page = shared_client.get("/ui/explain", params=params)
    assert page.status_code in (200, 400), page.text
    assert (page.status_code == 400) == bool(alerts(page.text))
    assert (page.status_code == 200) == ('id="answers"' in page.text)
