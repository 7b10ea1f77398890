"""`flagkit.appconfig_validator.handler`: AppConfig's Lambda validator, with AppConfig's events.

AppConfig invokes a validator with `{"applicationId", "configurationProfileId",
"configurationVersion", "content" (base64), "uri"}` and refuses the version when the
function raises (Lambda then sets `X-Amz-Function-Error`; the console shows the error
message). For an `AWS.Freeform` profile `content` is the document as stored; for an
`AWS.AppConfig.FeatureFlags` profile it is the console's stored format.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from flagkit.appconfig_validator import ConfigurationRejected, handler
from flagkit.errors import ConfigurationError, DocumentError
from flagkit.publish import appconfig_definition
from tests.conftest import REPO, SCHEMAS
from tests.helpers import run_flagkit, run_python
from tests.markdown_text import anchors, fenced_blocks, links, section

APPLICATION, PROFILE = "abc1234", "ur8hx2f"

FREEFORM: dict[str, Any] = {
    "_segments": {"beta": ["acme", "globex"]},
    "payments": {"enabled": True},
    "featureA": {"enabled": True, "requires": ["payments"], "segments": ["beta"]},
}
BOOLEAN: dict[str, Any] = {
    "payments": {"enabled": True},
    "featureA": {"enabled": True, "requires": ["payments"], "tenants": ["acme"], "percentage": 25},
}


def appconfig_event(content: bytes | dict[str, Any], version: str = "3") -> dict[str, Any]:
    """The event AppConfig sends a Lambda validator (AppConfig user guide, "Understanding
    validators"), for a hosted configuration version."""
    data = json.dumps(content).encode() if isinstance(content, dict) else content
    return {
        "applicationId": APPLICATION,
        "configurationProfileId": PROFILE,
        "configurationVersion": version,
        "content": base64.b64encode(data).decode("ascii"),
        "uri": "hosted",
    }


def rejection(event: dict[str, Any]) -> ConfigurationRejected:
    with pytest.raises(ConfigurationRejected) as raised:
        handler(event, None)
    return raised.value


def test_a_valid_freeform_document_passes() -> None:
    handler(appconfig_event(FREEFORM), None)  # returns, raising nothing


def test_a_valid_feature_flag_profile_version_passes() -> None:
    handler(appconfig_event(appconfig_definition(BOOLEAN)), None)


def test_an_invalid_freeform_document_is_refused_with_every_problem() -> None:
    broken = json.loads(json.dumps(FREEFORM))
    broken["featureA"]["percentage"] = 12.345
    broken["featureA"]["segments"] = ["betta"]
    broken["payments"]["requires"] = ["featureA"]
    refused = rejection(appconfig_event(broken, version="7"))
    assert isinstance(refused, DocumentError)
    assert str(refused) == (
        "flagkit refused configuration version 7 of profile ur8hx2f (application abc1234):\n"
        "  featureA.percentage: 12.345 has more than two decimal places (steps of 0.01)\n"
        '  featureA.segments[0]: unknown segment "betta"\n'
        "  payments.requires: cycle of prerequisites: payments -> featureA -> payments"
    )
    assert len(refused.problems) == 3


def test_a_document_breaking_the_schema_is_refused_at_the_schema() -> None:
    refused = rejection(appconfig_event({"featureA": {"enabled": "yes", "percentage": 120}}))
    assert str(refused) == (
        "flagkit refused configuration version 3 of profile ur8hx2f (application abc1234):\n"
        "  featureA.enabled: \"yes\" is not of type 'boolean'\n"
        "  featureA.percentage: 120 is greater than the maximum of 100"
    )


def test_an_invalid_feature_flag_profile_version_is_refused_with_every_problem() -> None:
    """The console accepts both values (its constraints cannot say them); flagkit refuses."""
    definition = appconfig_definition(BOOLEAN)
    definition["values"]["featureA"]["percentage"] = 12.345
    definition["values"]["payments"]["requires"] = ["featureA"]
    refused = rejection(appconfig_event(definition))
    assert str(refused) == (
        "flagkit refused configuration version 3 of profile ur8hx2f (application abc1234):\n"
        "  featureA.percentage: 12.345 has more than two decimal places (steps of 0.01)\n"
        "  payments.requires: cycle of prerequisites: payments -> featureA -> payments"
    )


def test_every_problem_is_listed_however_many() -> None:
    many = {f"flag{index}": {"enabled": True, "requires": ["nope"]} for index in range(30)}
    refused = rejection(appconfig_event(many))
    lines = str(refused).splitlines()
    assert len(lines) == 1 + 30
    assert lines[-1] == '  flag29.requires[0]: unknown flag "nope"'


def test_content_that_is_not_a_flag_document_is_refused() -> None:
    assert str(rejection(appconfig_event(b'{"checkout": on}'))) == (
        "flagkit refused configuration version 3 of profile ur8hx2f (application abc1234):\n"
        "  (document): not valid JSON: Expecting value at line 1 column 14"
    )
    assert str(rejection(appconfig_event(b""))) == (
        "flagkit refused configuration version 3 of profile ur8hx2f (application abc1234):\n"
        "  (document): the document is empty"
    )


def test_a_yaml_freeform_version_is_read_as_yaml() -> None:
    """The event carries no content type: text that does not start with `{` is YAML."""
    handler(appconfig_event(b"featureA:\n  enabled: true\n  percentage: 25\n"), None)
    assert str(rejection(appconfig_event(b"featureA:\n  enabled: true\n  percentage: 120\n"))) == (
        "flagkit refused configuration version 3 of profile ur8hx2f (application abc1234):\n"
        "  featureA.percentage: 120 is greater than the maximum of 100"
    )
    assert str(rejection(appconfig_event(b"checkout: on\n"))) == (
        "flagkit refused configuration version 3 of profile ur8hx2f (application abc1234):\n"
        "  checkout: true is not of type 'object'"
    )


def test_a_yaml_alias_bomb_is_refused_before_it_expands() -> None:
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode()
        for i in range(8)
    )
    assert str(rejection(appconfig_event(bomb))) == (
        "flagkit refused configuration version 3 of profile ur8hx2f (application abc1234):\n"
        "  (document): YAML anchors and aliases (&name, *name) are not accepted in a flag "
        "document; write each value out (line 1, column 4)"
    )


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, "not an AppConfig validator event: no 'content'"),
        ({"content": 42}, "not an AppConfig validator event: 'content' is not base64 text"),
        (
            {"content": "not base64!"},
            "not an AppConfig validator event: 'content' is not base64 text",
        ),
        ("text", "not an AppConfig validator event: a str, not an object"),
    ],
)
def test_an_event_that_is_not_appconfigs_is_a_configuration_error(event: Any, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        handler(event, None)
    assert str(raised.value) == message


EXAMPLE_FILES = sorted((SCHEMAS / "examples").glob("*/*.json"))


def validate_examples() -> dict[Path, list[str]]:
    """What `flagkit validate` prints for each example, its path taken off each line."""
    validated = run_flagkit("validate", *EXAMPLE_FILES)
    printed: dict[Path, list[str]] = {path: [] for path in EXAMPLE_FILES}
    for line in validated.stdout.splitlines():
        path, _, rest = line.partition(": ")
        printed[Path(path)].append(rest)
    return printed


def handler_problems(content: bytes) -> list[str] | None:
    """The problems the handler refuses `content` for; None when it lets it through."""
    try:
        handler(appconfig_event(content), None)
    except ConfigurationRejected as exc:
        return [str(problem) for problem in exc.problems]
    return None


def as_feature_flag_profile(content: bytes) -> bytes | None:
    """The example as the console would store it, when that form can hold it unchanged: an
    object of flags, each an object with a boolean `enabled` (a value AppConfig stores)."""
    document = json.loads(content)
    if not isinstance(document, dict) or not all(
        isinstance(flag, dict) and isinstance(flag.get("enabled"), bool)
        for flag in document.values()
    ):
        return None
    if any(key.startswith(("$", "_")) for key in document):
        return None
    flags = {key: {"name": key} for key in document}
    return json.dumps({"version": "1", "flags": flags, "values": document}).encode()


def test_the_handler_and_flagkit_validate_give_the_same_verdict_on_every_example() -> None:
    """Every example document, valid and invalid, as a freeform profile's content and (when
    the console's format can hold it) as a feature-flag profile's: the verdict and the
    problems `flagkit validate` prints for the file."""
    assert {path.parent.name for path in EXAMPLE_FILES} == {"valid", "invalid", "invalid-semantic"}
    printed = validate_examples()
    as_feature_flags = 0
    for path in EXAMPLE_FILES:
        errors = [
            line.removeprefix("error: ") for line in printed[path] if line.startswith("error: ")
        ]
        valid = path.parent.name == "valid"
        assert (errors == []) == valid, (path, printed[path])
        expected = None if valid else errors
        assert handler_problems(path.read_bytes()) == expected, path
        stored = as_feature_flag_profile(path.read_bytes())
        if stored is not None:
            as_feature_flags += 1
            assert handler_problems(stored) == expected, path
    assert as_feature_flags >= 10


def test_the_handler_name_resolves_as_the_lambda_runtime_resolves_it() -> None:
    """The runtime imports the module named before the last dot and calls the function:
    in a fresh interpreter, without boto3 or anything flagkit does not need."""
    code = (
        "import base64, importlib, json, sys\n"
        "module, _, name = sys.argv[1].rpartition('.')\n"
        "function = getattr(importlib.import_module(module), name)\n"
        "event = {'applicationId': 'a', 'configurationProfileId': 'p', "
        "'configurationVersion': '1', 'uri': 'hosted', "
        "'content': base64.b64encode(b'{\"a\": {\"enabled\": true}}').decode()}\n"
        "print(function(event, None))\n"
        "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))\n"
    )
    result = run_python(code, "flagkit.appconfig_validator.handler")
    assert (result.stdout, result.stderr) == ("None\n[]\n", "")


GUIDE = REPO / "docs" / "appconfig.md"


def test_the_guide_deploys_this_handler() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    assert "--handler flagkit.appconfig_validator.handler" in guide
    assert "--principal appconfig.amazonaws.com" in guide
    assert guide.count("--validators Type=LAMBDA,Content=arn:aws:lambda:") == 2


def test_the_guide_shows_the_message_the_handler_gives() -> None:
    definition = appconfig_definition(BOOLEAN)
    definition["values"]["featureA"]["percentage"] = 12.345
    definition["values"]["featureA"]["requires"] = ["paymnts"]
    shown = GUIDE.read_text(encoding="utf-8").split("<!-- validator-example:start -->")[1]
    (block,) = fenced_blocks(shown.split("<!-- validator-example:end -->")[0], "")
    assert block == str(rejection(appconfig_event(definition))) + "\n"


def test_the_guides_local_run_prints_what_it_shows() -> None:
    local = section(GUIDE.read_text(encoding="utf-8"), "### Deploying it")
    (code,) = fenced_blocks(local, "python")
    after = local.split(code, 1)[1]
    assert after.startswith("```\n```\n")  # the output, in the block that follows
    shown = after.removeprefix("```\n```\n").split("```", 1)[0]
    assert shown.startswith("flagkit.appconfig_validator.ConfigurationRejected: ")
    result = run_python(code)
    assert result.returncode == 1
    assert result.stderr.endswith(shown), result.stderr


def test_every_link_of_the_guide_stays_in_the_repository_and_finds_its_target() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    targets = list(links(text))
    assert targets
    for target in targets:
        assert not re.match(r"[a-z]+:", target), f"{target} leaves the repository"
        path, _, anchor = target.partition("#")
        linked = (GUIDE.parent / path).resolve() if path else GUIDE
        assert linked.is_relative_to(REPO), target
        assert linked.exists(), target
        assert not anchor or anchor in anchors(linked.read_text(encoding="utf-8")), target
