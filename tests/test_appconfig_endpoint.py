"""The loopback AppConfig endpoint (flagkit.local_appconfig) as a real boto3 client sees it.

Every data-plane check goes through ``boto3.client("appconfigdata", endpoint_url=...)``, so what
passes here is what botocore's rest-json parser makes of the endpoint's responses: the modeled
exceptions, their ``Error.Code`` and their modeled members.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError, ParamValidationError, ReadTimeoutError

from tests.appconfig_endpoint import (
    AGENT,
    GET_CONFIGURATION,
    START_SESSION,
    AppConfigEndpoint,
    RequestRecord,
)

if TYPE_CHECKING:
    # boto3-stubs[appconfigdata]: types only, never imported at run time.
    from mypy_boto3_appconfigdata import AppConfigDataClient

REPO = Path(__file__).resolve().parent.parent
FLAGS = {"flags": {"new-checkout": {"enabled": True}}}

ClientFactory = Callable[..., "AppConfigDataClient"]


@pytest.fixture
def endpoint() -> Iterator[AppConfigEndpoint]:
    with AppConfigEndpoint(poll_interval=1) as served:
        yield served


@pytest.fixture
def make_client(
    endpoint: AppConfigEndpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ClientFactory]:
    """Real boto3 clients that read no credentials, config files, IMDS or proxies from here."""
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    clients: list[AppConfigDataClient] = []

    def make(**config: Any) -> AppConfigDataClient:
        # botocore's retries "max_attempts" counts *retries* (it becomes total_max_attempts =
        # max_attempts + 1; see test_botocore_max_attempts_counts_retries), so exactly one attempt
        # per call is total_max_attempts=1.
        config.setdefault("retries", {"total_max_attempts": 1, "mode": "standard"})
        config.setdefault("connect_timeout", 5)
        config.setdefault("read_timeout", 10)
        client = boto3.client(
            "appconfigdata",
            endpoint_url=endpoint.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - dummy; the endpoint checks no SigV4
            config=Config(**config),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> AppConfigDataClient:
    return make_client()


def start(client: AppConfigDataClient, app: str = "app", env: str = "prod", **kw: Any) -> str:
    return client.start_configuration_session(
        ApplicationIdentifier=app,
        EnvironmentIdentifier=env,
        ConfigurationProfileIdentifier=kw.pop("profile", "flags"),
        **kw,
    )["InitialConfigurationToken"]


def poll(client: AppConfigDataClient, token: str) -> tuple[dict[str, Any], bytes]:
    """One GetLatestConfiguration call and its body.

    The body must always be read (even when empty): an unread StreamingBody keeps its pooled
    connection checked out, and the socket leaks (a ResourceWarning) when it is collected.
    """
    response = client.get_latest_configuration(ConfigurationToken=token)
    return dict(response), response["Configuration"].read()


def error_of(excinfo: pytest.ExceptionInfo[Any]) -> dict[str, Any]:
    response: dict[str, Any] = excinfo.value.response
    return response


def problem_of(excinfo: pytest.ExceptionInfo[Any]) -> str:
    response = error_of(excinfo)
    assert response["Error"]["Code"] == "BadRequestException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Reason"] == "InvalidParameters"
    problem: str = response["Details"]["InvalidParameters"]["ConfigurationToken"]["Problem"]
    return problem


# -- the happy path ---------------------------------------------------------------------------


def test_session_delivers_the_configuration_once_per_version(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    assert endpoint.deploy("app", "prod", "flags", FLAGS) == 1
    token = start(client)

    first, body = poll(client, token)
    assert json.loads(body) == FLAGS
    assert first["ContentType"] == "application/json"
    assert first["VersionLabel"] == "1"
    assert first["NextPollIntervalInSeconds"] == 1
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert first["ResponseMetadata"]["RequestId"]
    assert first["NextPollConfigurationToken"] not in ("", token)

    # Nothing new: empty body, empty Version-Label, a fresh token.
    second, body = poll(client, first["NextPollConfigurationToken"])
    assert body == b""
    assert second["VersionLabel"] == ""
    assert second["NextPollConfigurationToken"] != first["NextPollConfigurationToken"]

    assert endpoint.deploy("app", "prod", "flags", {"flags": {}}) == 2
    third, body = poll(client, second["NextPollConfigurationToken"])
    assert json.loads(body) == {"flags": {}}
    assert third["VersionLabel"] == "2"

    assert [(r.operation, r.status) for r in endpoint.requests] == [
        (START_SESSION, 201),
        (GET_CONFIGURATION, 200),
        (GET_CONFIGURATION, 200),
        (GET_CONFIGURATION, 200),
    ]
    assert endpoint.requests[1].token == token
    assert endpoint.counts == {START_SESSION: 1, GET_CONFIGURATION: 3}


def test_tokens_need_url_encoding_like_the_real_ones(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    token = start(client)
    assert token.endswith("==")
    poll(client, token)
    assert endpoint.requests[-1].token == token  # "+", "/", "=" survived the query string


def test_every_session_gets_the_current_version_first(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    for _ in range(2):
        _, body = poll(client, start(client))
        assert json.loads(body) == FLAGS


@pytest.mark.parametrize(
    ("content", "content_type", "body"),
    [
        ({"a": 1}, "application/json; charset=utf-8", b'{"a": 1}'),
        ("flags:\n  a: true\n", "application/x-yaml", b"flags:\n  a: true\n"),
        ("on", "text/plain", b"on"),
        (b"\x00\xff", "application/octet-stream", b"\x00\xff"),
    ],
)
def test_content_type_and_bytes_as_deployed(
    endpoint: AppConfigEndpoint,
    client: AppConfigDataClient,
    content: Any,
    content_type: str,
    body: bytes,
) -> None:
    endpoint.deploy("app", "prod", "flags", content, content_type=content_type)
    response, received = poll(client, start(client))
    assert response["ContentType"] == content_type
    assert received == body


def test_version_label_custom_empty_or_absent(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS, version_label="2024-05-01.1")
    assert poll(client, start(client))[0]["VersionLabel"] == "2024-05-01.1"
    endpoint.deploy("app", "prod", "flags", FLAGS, version_label="")
    assert poll(client, start(client))[0]["VersionLabel"] == ""
    endpoint.deploy("app", "prod", "flags", FLAGS, send_version_label=False)
    response, body = poll(client, start(client))
    assert json.loads(body) == FLAGS
    assert "VersionLabel" not in response
    assert "version-label" not in response["ResponseMetadata"]["HTTPHeaders"]


def test_versions_count_per_profile_and_deploy_per_environment(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    assert endpoint.deploy("app", "beta", "flags", {"v": 1}) == 1
    assert endpoint.deploy("app", "prod", "flags", {"v": 2}) == 2
    assert endpoint.deploy("app", "prod", "other", {"v": 1}) == 1
    beta, body = poll(client, start(client, env="beta"))
    assert json.loads(body) == {"v": 1}
    assert beta["VersionLabel"] == "1"


def test_ids_work_as_identifiers(endpoint: AppConfigEndpoint, client: AppConfigDataClient) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    app_id, env_id, profile_id = endpoint.resource_ids("app", "prod", "flags")
    token = start(client, app=app_id, env=env_id, profile=profile_id)
    assert json.loads(poll(client, token)[1]) == FLAGS


# -- poll intervals ---------------------------------------------------------------------------


def test_required_minimum_raises_and_enforces_the_interval(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    first, _ = poll(client, start(client, RequiredMinimumPollIntervalInSeconds=30))
    assert first["NextPollIntervalInSeconds"] == 30  # max(poll_interval=1, 30)
    token = first["NextPollConfigurationToken"]

    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.get_latest_configuration(ConfigurationToken=token)
    assert problem_of(excinfo) == "PollIntervalNotSatisfied"

    endpoint.advance(30)
    # The refused call did not use the token up.
    assert poll(client, token)[1] == b""


def test_advertised_interval_is_enforced_only_on_request(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    endpoint.poll_interval = 45
    first, _ = poll(client, start(client))
    assert first["NextPollIntervalInSeconds"] == 45
    # Not enforced by default: polling early is allowed.
    second, _ = poll(client, first["NextPollConfigurationToken"])

    endpoint.enforce_poll_interval = True
    token = second["NextPollConfigurationToken"]
    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.get_latest_configuration(ConfigurationToken=token)
    assert problem_of(excinfo) == "PollIntervalNotSatisfied"
    endpoint.advance(44.5)
    with pytest.raises(client.exceptions.BadRequestException):
        client.get_latest_configuration(ConfigurationToken=token)
    endpoint.advance(0.5)
    poll(client, token)


def test_required_minimum_is_validated_by_botocore_and_by_the_endpoint(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    with pytest.raises(ParamValidationError):  # the model's min of 15, checked client-side
        start(client, RequiredMinimumPollIntervalInSeconds=5)
    assert endpoint.requests == []
    with pytest.raises(client.exceptions.BadRequestException) as excinfo:  # max 86400
        start(client, RequiredMinimumPollIntervalInSeconds=86401)
    assert error_of(excinfo)["Error"]["Code"] == "BadRequestException"
    assert "RequiredMinimumPollIntervalInSeconds" in error_of(excinfo)["Error"]["Message"]


# -- bad tokens ---------------------------------------------------------------------------------


def test_reused_token_is_refused(endpoint: AppConfigEndpoint, client: AppConfigDataClient) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    token = start(client)
    poll(client, token)
    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.get_latest_configuration(ConfigurationToken=token)
    assert problem_of(excinfo) == "Corrupted"
    assert endpoint.requests[-1] == RequestRecord(
        GET_CONFIGURATION, 400, token, endpoint.requests[-1].time
    )


def test_reused_token_is_accepted_when_not_strict(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.strict_tokens = False
    endpoint.deploy("app", "prod", "flags", FLAGS)
    token = start(client)
    poll(client, token)
    assert poll(client, token)[1] == b""


def test_garbage_token_is_corrupted(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.get_latest_configuration(ConfigurationToken="not-a-token")
    assert problem_of(excinfo) == "Corrupted"
    assert endpoint.requests[0].token == "not-a-token"  # noqa: S105 - not a secret


def test_token_expires_after_its_ttl(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    token = start(client)
    endpoint.advance(24 * 60 * 60 - 1)  # valid for up to 24 hours ...
    first, _ = poll(client, token)
    endpoint.advance(24 * 60 * 60 + 1)  # ... and no longer
    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.get_latest_configuration(ConfigurationToken=first["NextPollConfigurationToken"])
    assert problem_of(excinfo) == "Expired"

    endpoint.token_ttl = 10
    token = start(client)
    endpoint.advance(11)
    with pytest.raises(client.exceptions.BadRequestException) as excinfo:
        client.get_latest_configuration(ConfigurationToken=token)
    assert problem_of(excinfo) == "Expired"


def test_injected_clock() -> None:
    now = [1000.0]
    with AppConfigEndpoint(clock=lambda: now[0], token_ttl=5) as served:
        assert served.now() == 1000.0
        now[0] += 2
        served.advance(1)
        assert served.now() == 1003.0


# -- missing resources ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifiers", "resource_type", "referenced_by"),
    [
        (("nope", "prod", "flags"), "Application", {"ApplicationIdentifier": "nope"}),
        (("app", "nope", "flags"), "Environment", {"EnvironmentIdentifier": "nope"}),
        (
            ("app", "prod", "nope"),
            "ConfigurationProfile",
            {"ConfigurationProfileIdentifier": "nope"},
        ),
    ],
)
def test_unknown_resources_are_not_found(
    endpoint: AppConfigEndpoint,
    client: AppConfigDataClient,
    identifiers: tuple[str, str, str],
    resource_type: str,
    referenced_by: dict[str, str],
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    app, env, profile = identifiers
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        start(client, app=app, env=env, profile=profile)
    response = error_of(excinfo)
    assert response["Error"]["Code"] == "ResourceNotFoundException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "nope" in response["Error"]["Message"]
    assert response["ResourceType"] == resource_type
    assert response["ReferencedBy"] == referenced_by


def test_created_but_never_deployed(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.create("app", "prod", "flags")
    token = start(client)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.get_latest_configuration(ConfigurationToken=token)
    assert error_of(excinfo)["ResourceType"] == "Deployment"
    endpoint.deploy("app", "prod", "flags", FLAGS)
    # The refused call did not use the token up either.
    assert json.loads(poll(client, token)[1]) == FLAGS


# -- faults -----------------------------------------------------------------------------------


def test_throttle_once_then_recover(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    token = start(client)
    endpoint.fail_next("throttle")
    with pytest.raises(client.exceptions.ThrottlingException) as excinfo:
        client.get_latest_configuration(ConfigurationToken=token)
    response = error_of(excinfo)
    assert response["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert endpoint.count(GET_CONFIGURATION) == 1  # botocore did not retry behind our back
    # The throttled call did not use the token up.
    assert poll(client, token)[0]["VersionLabel"] == "1"


def test_internal_error(endpoint: AppConfigEndpoint, client: AppConfigDataClient) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    endpoint.fail_next("internal")
    with pytest.raises(client.exceptions.InternalServerException) as excinfo:
        start(client)
    assert error_of(excinfo)["Error"]["Code"] == "InternalServerException"
    assert error_of(excinfo)["ResponseMetadata"]["HTTPStatusCode"] == 500
    start(client)


def test_fault_can_target_one_operation(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    endpoint.fail_next("throttle", count=2, operation=GET_CONFIGURATION)
    token = start(client)  # not affected
    for _ in range(2):
        with pytest.raises(client.exceptions.ThrottlingException):
            client.get_latest_configuration(ConfigurationToken=token)
    poll(client, token)
    assert [r.status for r in endpoint.requests] == [201, 429, 429, 200]


def test_fault_storm_until_cleared(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    endpoint.set_fault("internal", operation=START_SESSION)
    for _ in range(3):
        with pytest.raises(client.exceptions.InternalServerException):
            start(client)
    endpoint.clear_faults()
    start(client)
    assert endpoint.counts == {START_SESSION: 4}


def test_drop_closes_the_connection_without_a_response(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    endpoint.fail_next("drop", operation=START_SESSION)
    with pytest.raises(ConnectionClosedError):
        start(client)
    assert endpoint.requests[0].status is None
    start(client)


def test_delay_trips_the_client_read_timeout(
    endpoint: AppConfigEndpoint, make_client: ClientFactory
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    client = make_client(read_timeout=0.2)
    endpoint.fail_next("delay", seconds=30)  # cut short when the endpoint closes
    began = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        start(client)
    assert time.monotonic() - began < 5
    endpoint.fail_next("delay", seconds=0.05)
    start(client)  # a short delay is just a slow answer
    assert endpoint.wait_for_requests(START_SESSION, 1, timeout=5)


def test_botocore_max_attempts_counts_retries(
    endpoint: AppConfigEndpoint, make_client: ClientFactory
) -> None:
    """Pins a botocore trap: retries={"max_attempts": 1} means one *retry* (two requests)."""
    endpoint.deploy("app", "prod", "flags", FLAGS)
    client = make_client(retries={"max_attempts": 1, "mode": "standard"})
    endpoint.fail_next("throttle", count=2)
    with pytest.raises(client.exceptions.ThrottlingException):
        start(client)
    assert endpoint.count(START_SESSION) == 2


def test_bad_fault_arguments_are_refused(endpoint: AppConfigEndpoint) -> None:
    with pytest.raises(ValueError, match="fault kind"):
        endpoint.fail_next("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="operation"):
        endpoint.set_fault("drop", operation="GetConfiguration")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="count"):
        endpoint.fail_next("drop", count=0)


# -- the Agent path -----------------------------------------------------------------------------

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def agent_get(url: str, token: str | None = None) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback http URL built by the test
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with _NO_PROXY.open(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def test_agent_serves_the_latest_deployment(endpoint: AppConfigEndpoint) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS, content_type="application/json; charset=utf-8")
    endpoint.deploy("app", "prod", "flags", {"flags": {}}, content_type="application/json")
    status, headers, body = agent_get(endpoint.agent_url("app", "prod", "flags"))
    assert status == 200
    assert json.loads(body) == {"flags": {}}
    assert headers["Content-Type"] == "application/json"
    assert headers["Configuration-Version"] == "2"
    # Reading through the agent is not a session: read it again, get it again.
    assert agent_get(endpoint.agent_url("app", "prod", "flags"))[2] == body
    assert endpoint.counts == {AGENT: 2}


def test_agent_not_found(endpoint: AppConfigEndpoint) -> None:
    endpoint.create("app", "prod", "flags")
    for url in (
        endpoint.agent_url("nope", "prod", "flags"),
        endpoint.agent_url("app", "prod", "flags"),  # exists, never deployed
        f"{endpoint.url}/applications/app/environments/prod",
    ):
        status, headers, body = agent_get(url)
        assert status == 404
        assert headers["Content-Type"] == "application/text"
        assert body.startswith(b"ResourceNotFoundException")


AGENT_TOKEN = "local-agent-token"  # noqa: S105 - a test value, like the agent's ACCESS_TOKEN


def test_agent_bearer_token(endpoint: AppConfigEndpoint) -> None:
    endpoint.agent_token = AGENT_TOKEN
    endpoint.deploy("app", "prod", "flags", FLAGS)
    url = endpoint.agent_url("app", "prod", "flags")
    assert agent_get(url)[0] == 401
    assert agent_get(url, token=AGENT_TOKEN[::-1])[0] == 401
    assert agent_get(url, token=AGENT_TOKEN)[0] == 200


def test_agent_faults(endpoint: AppConfigEndpoint, client: AppConfigDataClient) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    url = endpoint.agent_url("app", "prod", "flags")
    endpoint.fail_next("throttle", operation=AGENT)
    endpoint.fail_next("internal", operation=AGENT)
    start(client)  # the data plane is not affected
    assert agent_get(url)[0] == 502
    assert agent_get(url)[0] == 500
    endpoint.fail_next("drop", operation=AGENT)
    with pytest.raises(http.client.RemoteDisconnected):
        agent_get(url)
    assert agent_get(url)[0] == 200


# -- observation and lifecycle ------------------------------------------------------------------


def test_wait_for_requests_wakes_on_the_request_not_on_a_timer(
    endpoint: AppConfigEndpoint, client: AppConfigDataClient
) -> None:
    endpoint.deploy("app", "prod", "flags", FLAGS)
    assert not endpoint.wait_for_requests(START_SESSION, 1, timeout=0)
    go = threading.Event()

    def poller() -> None:
        go.wait(5)
        start(client)
        start(client)

    thread = threading.Thread(target=poller)
    thread.start()
    go.set()
    began = time.monotonic()
    assert endpoint.wait_for_requests(START_SESSION, 2, timeout=10)
    assert time.monotonic() - began < 5
    thread.join()
    assert endpoint.wait_for_requests(None, 2, timeout=0)
    assert not endpoint.wait_for_requests(GET_CONFIGURATION, 1, timeout=0.01)


def test_close_stops_threads_and_frees_the_port(make_client: ClientFactory) -> None:
    before = set(threading.enumerate())
    with AppConfigEndpoint() as served:
        served.deploy("app", "prod", "flags", FLAGS)
        url = served.agent_url("app", "prod", "flags")
        assert agent_get(url)[0] == 200
        # An idle keep-alive connection from boto3 must not hold close() up.
        client = boto3.client(
            "appconfigdata",
            endpoint_url=served.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - dummy; the endpoint checks no SigV4
        )
        start(client)
        began = time.monotonic()
    assert time.monotonic() - began < 5
    client.close()
    served.close()  # closing twice is harmless
    assert set(threading.enumerate()) <= before
    with pytest.raises(urllib.error.URLError):
        agent_get(url)
