"""flagkit.publish.appconfig_push, in process.

AppConfig is never contacted. What moto (5.2) implements of the control plane is used
in-process: applications, configuration profiles, hosted configuration versions. moto has
no ListApplications, environments, ListHostedConfigurationVersions, deployment strategies
or deployments, and ignores CreateHostedConfigurationVersion's LatestVersionNumber, so
those calls are answered by botocore's Stubber (restricted to them, `MotoGaps`) or, for
the lock and exact call sequences, by a plain Stubber. The `flagkit push` command is
tested against a loopback stub of the control plane in test_publish_appconfig_push_cli.py.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from flagkit.document import check_document
from flagkit.errors import DocumentError, PublishError
from flagkit.model import Tenant
from flagkit.publish import FEATURE_FLAGS_TYPE, appconfig_definition, diff_documents, push
from tests.conftest import EXAMPLES
from tests.publish_data import BOOL_NEW, BOOL_OLD, NOT_UNICODE

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient

EXAMPLE = EXAMPLES / "flags.json"


class MotoGaps(Stubber):
    """A Stubber that answers only `operations` and lets every other call through to moto."""

    def __init__(self, client: Any, operations: set[str]) -> None:
        super().__init__(client)
        self.operations = operations

    def _get_response_handler(self, model: Any, params: Any, context: Any, **kwargs: Any) -> Any:
        if model.name not in self.operations:
            return None
        return super()._get_response_handler(model, params, context, **kwargs)  # type: ignore[misc]

    def _assert_expected_params(self, model: Any, params: Any, context: Any, **kwargs: Any) -> Any:
        if model.name not in self.operations:
            return None
        return super()._assert_expected_params(model, params, context, **kwargs)  # type: ignore[misc]


MOTO_GAPS = {
    "ListApplications",
    "ListEnvironments",
    "ListHostedConfigurationVersions",
    "ListDeploymentStrategies",
    "ListDeployments",
    "StartDeployment",
}


def queue_reads(
    stub: Stubber,
    app: str,
    profile: str,
    versions: list[int],
    deployed: int | None,
    *,
    profiles: list[dict[str, Any]] | None = None,
) -> None:
    """The list calls `push` makes, in order (ListConfigurationProfiles only when given)."""
    stub.add_response("list_applications", {"Items": [{"Id": app, "Name": "shop"}]}, {})
    stub.add_response(
        "list_environments",
        {"Items": [{"ApplicationId": app, "Id": "env0001", "Name": "prod"}]},
        {"ApplicationId": app},
    )
    if profiles is not None:
        stub.add_response(
            "list_configuration_profiles", {"Items": profiles}, {"ApplicationId": app}
        )
    stub.add_response(
        "list_deployment_strategies",
        {"Items": [{"Id": "AppConfig.AllAtOnce", "Name": "AppConfig.AllAtOnce"}]},
        {},
    )
    stub.add_response(
        "list_hosted_configuration_versions",
        {"Items": [{"VersionNumber": number} for number in sorted(versions, reverse=True)]},
        {"ApplicationId": app, "ConfigurationProfileId": profile},
    )
    deployments = (
        [
            {
                "DeploymentNumber": 1,
                "ConfigurationProfileId": profile,
                "ConfigurationName": "flags",
                "ConfigurationVersion": str(deployed),
                "State": "COMPLETE",
            }
        ]
        if deployed is not None
        else []
    )
    stub.add_response(
        "list_deployments",
        {"Items": deployments},
        {"ApplicationId": app, "EnvironmentId": "env0001"},
    )


def test_push_to_a_feature_flag_profile_stores_the_definition_in_moto(
    moto_client: AppConfigClient,
) -> None:
    app = moto_client.create_application(Name="shop")["Id"]
    moto_client.create_configuration_profile(
        ApplicationId=app, Name="other", LocationUri="hosted", Type="AWS.Freeform"
    )
    profile = moto_client.create_configuration_profile(
        ApplicationId=app, Name="flags", LocationUri="hosted", Type=FEATURE_FLAGS_TYPE
    )["Id"]
    moto_client.create_hosted_configuration_version(
        ApplicationId=app,
        ConfigurationProfileId=profile,
        Content=json.dumps(appconfig_definition(BOOL_OLD)).encode(),
        ContentType="application/json",
    )["Content"].close()
    stub = MotoGaps(moto_client, MOTO_GAPS)
    queue_reads(stub, app, profile, versions=[1], deployed=1)
    stub.add_response(
        "start_deployment",
        {"DeploymentNumber": 2, "State": "DEPLOYING", "ConfigurationVersion": "2"},
        {
            "ApplicationId": app,
            "EnvironmentId": "env0001",
            "DeploymentStrategyId": "AppConfig.AllAtOnce",
            "ConfigurationProfileId": profile,
            "ConfigurationVersion": "2",
            "Description": "more tenants",
            "LatestDeploymentNumber": 1,
        },
    )
    tenants = (Tenant("acme"), Tenant("globex"))
    with stub:
        result = push(
            BOOL_NEW,
            application="shop",
            environment="prod",
            profile="flags",
            description="more tenants",
            tenants=tenants,
            client=moto_client,
        )
    stub.assert_no_pending_responses()
    assert (result.version_number, result.deployment_number, result.deployment_state) == (
        2,
        2,
        "DEPLOYING",
    )
    assert result.compared_with == "deployed version 1"
    assert result.diff == diff_documents(BOOL_OLD, BOOL_NEW, tenants)
    assert result.target.profile_type == FEATURE_FLAGS_TYPE
    stored = moto_client.get_hosted_configuration_version(
        ApplicationId=app, ConfigurationProfileId=profile, VersionNumber=2
    )
    with stored["Content"] as body:
        assert json.loads(body.read()) == appconfig_definition(BOOL_NEW)
    assert (stored["ContentType"], stored["Description"]) == ("application/json", "more tenants")


def test_push_to_a_freeform_profile_stores_the_document_and_names_resolve_by_id(
    moto_client: AppConfigClient,
) -> None:
    app = moto_client.create_application(Name="shop")["Id"]
    profile = moto_client.create_configuration_profile(
        ApplicationId=app, Name="flags", LocationUri="hosted", Type="AWS.Freeform"
    )["Id"]
    document = json.loads(EXAMPLE.read_text())
    stub = MotoGaps(moto_client, MOTO_GAPS)
    queue_reads(stub, app, profile, versions=[], deployed=None)
    stub.add_response(
        "start_deployment",
        {"DeploymentNumber": 1, "State": "DEPLOYING"},
        {
            "ApplicationId": app,
            "EnvironmentId": "env0001",
            "DeploymentStrategyId": "AppConfig.AllAtOnce",
            "ConfigurationProfileId": profile,
            "ConfigurationVersion": "1",
        },
    )
    with stub:
        result = push(
            document, application=app, environment="env0001", profile=profile, client=moto_client
        )
    stub.assert_no_pending_responses()
    assert result.compared_with == "nothing (the profile has no version yet)"
    assert result.diff is not None
    assert result.diff.added == tuple(key for key in document if not key.startswith(("$", "_")))
    stored = moto_client.get_hosted_configuration_version(
        ApplicationId=app, ConfigurationProfileId=profile, VersionNumber=1
    )
    with stored["Content"] as body:
        assert json.loads(body.read()) == document


def stub_client(aws_env: None) -> AppConfigClient:
    return boto3.client("appconfig", region_name="us-east-1")


def body(content: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(content), len(content))


FREEFORM = [{"Id": "cfg0001", "Name": "flags", "LocationUri": "hosted", "Type": "AWS.Freeform"}]


def test_a_concurrent_push_loses_with_a_message_telling_it_to_rerun(aws_env: None) -> None:
    client = stub_client(aws_env)
    old = json.dumps(BOOL_OLD).encode()
    content = (json.dumps(BOOL_NEW, indent=2) + "\n").encode()
    with Stubber(client) as stub:
        queue_reads(stub, "app0001", "cfg0001", [3, 2, 1], deployed=3, profiles=FREEFORM)
        stub.add_response(
            "get_hosted_configuration_version",
            {"Content": body(old), "ContentType": "application/json", "VersionNumber": 3},
            {"ApplicationId": "app0001", "ConfigurationProfileId": "cfg0001", "VersionNumber": 3},
        )
        stub.add_client_error(
            "create_hosted_configuration_version",
            service_error_code="ConflictException",
            service_message="The version number is not the latest",
            http_status_code=409,
            expected_params={
                "ApplicationId": "app0001",
                "ConfigurationProfileId": "cfg0001",
                "Content": content,
                "ContentType": "application/json",
                "LatestVersionNumber": 3,
            },
        )
        with pytest.raises(PublishError) as raised:
            push(BOOL_NEW, application="shop", environment="prod", profile="flags", client=client)
        stub.assert_no_pending_responses()  # and no start_deployment was attempted
    assert str(raised.value) == (
        "another hosted configuration version of profile 'flags' (cfg0001) was created since "
        "this push read the latest one (version 3), so nothing was created or deployed; re-run "
        "flagkit push to review the impact against the new version (AppConfig: The version "
        "number is not the latest)"
    )


def test_a_deployment_conflict_says_the_version_exists_but_is_not_deployed(
    aws_env: None,
) -> None:
    client = stub_client(aws_env)
    with Stubber(client) as stub:
        queue_reads(stub, "app0001", "cfg0001", [], deployed=None, profiles=FREEFORM)
        stub.add_response(
            "create_hosted_configuration_version", {"VersionNumber": 1, "Content": body(b"{}")}
        )
        stub.add_client_error(
            "start_deployment", service_error_code="ConflictException", http_status_code=409
        )
        with pytest.raises(PublishError, match=r"^created hosted configuration version 1 but"):
            push(BOOL_NEW, application="shop", environment="prod", profile="flags", client=client)
        stub.assert_no_pending_responses()


def test_a_dry_run_reads_and_diffs_but_creates_nothing(aws_env: None) -> None:
    client = stub_client(aws_env)
    seen: list[str] = []
    with Stubber(client) as stub:
        queue_reads(stub, "app0001", "cfg0001", [1], deployed=None, profiles=FREEFORM)
        stub.add_response(
            "get_hosted_configuration_version",
            {"Content": body(b"featureA: {enabled: true}"), "ContentType": "application/x-yaml"},
        )
        result = push(
            BOOL_NEW,
            application="shop",
            environment="prod",
            profile="flags",
            dry_run=True,
            client=client,
            on_diff=lambda partial: seen.append(partial.compared_with),
        )
        stub.assert_no_pending_responses()
    assert seen == ["latest version 1"]
    assert (result.dry_run, result.version_number, result.diff) == (True, None, None)
    assert result.diff_problem is not None
    assert result.diff_problem.startswith(
        "version 1 is not a flag document flagkit can read: (document): not valid JSON"
    )


def test_an_invalid_document_is_refused_before_any_call(aws_env: None) -> None:
    client = stub_client(aws_env)
    with Stubber(client), pytest.raises(DocumentError, match="percentage: 120 is greater"):
        push(
            {"a": {"enabled": True, "percentage": 120}},
            application="shop",
            environment="prod",
            profile="flags",
            client=client,
        )


def test_text_utf8_cannot_encode_is_refused_by_path_before_any_call(aws_env: None) -> None:
    """A JSON escape such as "\\ud800" passes the document checks but cannot be stored."""
    document = {"a": {"enabled": True, "excludedTenants": ["\ud800"], "note\udcff": ["x", 1]}}
    check_document(document)
    with pytest.raises(DocumentError) as refused:
        appconfig_definition(document)
    assert [str(problem) for problem in refused.value.problems][:2] == [
        f"a.excludedTenants[0]: {NOT_UNICODE}",
        f'a["note\udcff"]: the name is {NOT_UNICODE}',
    ]
    client = stub_client(aws_env)
    with Stubber(client), pytest.raises(DocumentError) as refused:
        push(document, application="shop", environment="prod", profile="flags", client=client)
    assert str(refused.value) == "\n".join(
        [
            "2 problems in the flag document:",
            f"  a.excludedTenants[0]: {NOT_UNICODE}",
            f'  a["note\udcff"]: the name is {NOT_UNICODE}',
        ]
    )


def test_a_feature_flag_profile_refuses_rules_before_writing(aws_env: None) -> None:
    client = stub_client(aws_env)
    profiles = [{"Id": "cfg0001", "Name": "flags", "Type": FEATURE_FLAGS_TYPE}]
    with Stubber(client) as stub:
        stub.add_response("list_applications", {"Items": [{"Id": "app0001", "Name": "shop"}]})
        stub.add_response("list_environments", {"Items": [{"Id": "env0001", "Name": "prod"}]})
        stub.add_response("list_configuration_profiles", {"Items": profiles})
        with pytest.raises(DocumentError, match=r"^theme\.variants: cannot be"):
            push(
                {"theme": {"enabled": True, "variants": {"a": 1}, "defaultVariant": "a"}},
                application="shop",
                environment="prod",
                profile="flags",
                client=client,
            )
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            {"application": "nope"},
            "no application 'nope'; expected the name or id of one of: shop (app0001), "
            "shop-eu (app0002)",
        ),
        (
            {"environment": "staging"},
            "no environment 'staging' in application 'shop' (app0001); expected the name or id "
            "of one of: prod (env0001), prod (env0002)",
        ),
        (
            {"environment": "prod"},
            "environment 'prod' in application 'shop' (app0001) is ambiguous: 2 environments "
            "have that name (ids env0001, env0002); pass the id instead",
        ),
        (
            {"environment": "env0002", "profile": "s3"},
            "configuration profile 's3' (cfg0002) reads its configuration from "
            "'s3://bucket/flags.json'; flagkit push needs a profile whose location is 'hosted' "
            "(the AppConfig hosted configuration store)",
        ),
        (
            {"environment": "env0002", "strategy": "slow"},
            "no deployment strategy 'slow'; expected the name or id of one of: "
            "AppConfig.AllAtOnce (AppConfig.AllAtOnce), canary (dst0001)",
        ),
    ],
    ids=["application", "environment", "ambiguous", "not-hosted", "strategy"],
)
def test_names_that_do_not_resolve_say_what_exists(
    aws_env: None, names: dict[str, str], message: str
) -> None:
    client = stub_client(aws_env)
    args: dict[str, Any] = {"application": "shop", "environment": "prod", "profile": "flags"}
    args |= names
    responses = [
        ("list_applications", [("app0001", "shop"), ("app0002", "shop-eu")]),
        ("list_environments", [("env0001", "prod"), ("env0002", "prod")]),
        ("list_configuration_profiles", [("cfg0001", "flags"), ("cfg0002", "s3")]),
        ("list_deployment_strategies", [("AppConfig.AllAtOnce",) * 2, ("dst0001", "canary")]),
    ]
    with Stubber(client) as stub:
        for operation, items in responses:
            listed = [{"Id": item_id, "Name": name} for item_id, name in items]
            if operation == "list_configuration_profiles":
                listed[1]["LocationUri"] = "s3://bucket/flags.json"
            stub.add_response(operation, {"Items": listed})
        with pytest.raises(PublishError) as raised:
            push(BOOL_NEW, **args, client=client)
    assert str(raised.value) == message


def test_no_region_is_a_clear_error(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(PublishError, match=r"^no AWS region for AppConfig: pass --region"):
        push(BOOL_NEW, application="shop", environment="prod", profile="flags")


def modules_loaded_by(imports: str) -> set[str]:
    """The names in `sys.modules` after a fresh interpreter runs `import {imports}`."""
    code = f"import json, sys, {imports}; print(json.dumps(list(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(result.stdout))


def test_importing_publish_or_the_cli_loads_no_boto3() -> None:
    assert not {"boto3", "botocore"} & modules_loaded_by("flagkit.publish, flagkit.cli")


def test_importing_flagkit_loads_no_publish_module() -> None:
    loaded = modules_loaded_by("flagkit")
    assert "flagkit" in loaded
    assert [name for name in loaded if name.startswith("flagkit.publish")] == []


@pytest.mark.parametrize(
    ("strategy", "listed", "expected_id", "gradual", "described"),
    [
        ("canary", [{"Id": "dst0001", "Name": "canary"}], "dst0001", False,
         "to every client at once"),
        ("AppConfig.AllAtOnce", [], "AppConfig.AllAtOnce", False,
         "to every client at once, then a 10-minute bake"),
        ("AppConfig.Canary10Percent20Minutes", [], "AppConfig.Canary10Percent20Minutes", True,
         "10% of clients per step (exponential) over 20 minutes, then a 10-minute bake"),
    ],
    ids=["by-name", "predefined", "predefined-gradual"],
)  # fmt: skip
def test_a_strategy_resolves_to_its_id_with_how_it_rolls_out(
    aws_env: None,
    strategy: str,
    listed: list[dict[str, str]],
    expected_id: str,
    gradual: bool,
    described: str,
) -> None:
    """By name or id; AppConfig's list may leave the predefined ones out: push knows them."""
    client = stub_client(aws_env)
    with Stubber(client) as stub:
        stub.add_response("list_applications", {"Items": [{"Id": "app0001", "Name": "shop"}]})
        stub.add_response("list_environments", {"Items": [{"Id": "env0001", "Name": "prod"}]})
        stub.add_response("list_configuration_profiles", {"Items": FREEFORM})
        stub.add_response("list_deployment_strategies", {"Items": listed})
        stub.add_response("list_hosted_configuration_versions", {"Items": []})
        stub.add_response("list_deployments", {"Items": []})
        result = push(
            BOOL_NEW,
            application="shop",
            environment="prod",
            profile="flags",
            strategy=strategy,
            dry_run=True,
            client=client,
        )
    assert result.strategy is not None
    assert (result.strategy_id, result.strategy.gradual) == (expected_id, gradual)
    assert result.strategy.describe() == described
