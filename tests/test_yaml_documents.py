"""YAML flag documents (issue #10, section 2): plain data only, refused early and small.

An AppConfig freeform profile may hold YAML. A YAML "billion laughs" of a few hundred
bytes used to expand to gigabytes when flagkit turned it into JSON, before any size
limit looked at it. Anchors and aliases, merge keys, duplicate and non-text keys, `.inf`
and `.nan` and too deep nesting are now refused with where they are, and the size limit
holds for the YAML text and for the JSON it becomes.
"""

from __future__ import annotations

import sys
import textwrap
import time
from typing import Any

import pytest

from flagkit import Flags, SchemaValidationError
from flagkit.sources.appconfig import AppConfigSource, document_bytes
from tests.appconfig_endpoint import AppConfigEndpoint
from tests.appconfig_fixtures import APP, ENV, PROFILE, Harness
from tests.helpers import run_command

YAML = "application/x-yaml"


def billion_laughs(levels: int = 9) -> bytes:
    """Nine aliases a level: the last key stands for 9**levels strings of "lol"."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        aliases = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    return ("\n".join(lines) + "\n").encode()


ALIASES_REFUSED = (
    "(document): YAML anchors and aliases (&name, *name) are not accepted in a flag document; "
    "write each value out (line 1, column 5)"
)


def test_a_billion_laughs_is_refused_fast_and_small() -> None:
    """In a fresh interpreter held to 1 GiB of address space (without the fix it runs out of
    memory there, instead of taking this machine's), and within seconds."""
    bomb = billion_laughs()
    assert len(bomb) < 1024  # ...standing for 9**9 = 387,420,489 strings
    code = textwrap.dedent(
        """
        import resource, sys
        limit = 1024 ** 3
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        from flagkit.errors import DocumentError
        from flagkit.sources.appconfig import document_bytes
        try:
            document_bytes(sys.stdin.buffer.read(), "application/x-yaml", "bomb")
        except DocumentError as exc:
            print(exc)
        """
    )
    started = time.monotonic()
    result = run_command([sys.executable, "-c", code], input=bomb.decode(), timeout=60)
    assert (result.stdout, result.stderr, result.returncode) == (ALIASES_REFUSED + "\n", "", 0)
    assert time.monotonic() - started < 20


def test_a_small_bomb_shows_what_aliases_would_expand_to() -> None:
    """The yardstick: plain PyYAML expands three levels of nine aliases 729 times over."""
    import json

    import yaml

    bomb = billion_laughs(levels=3)
    expanded = json.dumps(yaml.safe_load(bomb)).encode()
    assert len(expanded) > 20 * len(bomb)
    with pytest.raises(SchemaValidationError) as caught:
        document_bytes(bomb, YAML, "bomb")
    assert str(caught.value) == ALIASES_REFUSED


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "base: &defaults {enabled: true}\nfeatureA: *defaults\n",
            ALIASES_REFUSED.replace("column 5", "column 7"),
        ),
        (
            "featureA:\n  <<: {enabled: true}\n",
            "(document): YAML merge keys (<<) are not accepted in a flag document; write the keys "
            "out (line 2, column 3)",
        ),
        (
            "featureA: {enabled: true}\nfeatureB: {enabled: false}\nfeatureA: {enabled: false}\n",
            '(document): not valid YAML: the key "featureA" appears twice in one object '
            "(line 3, column 1)",
        ),
        (
            "colour:\n  enabled: true\n  variants: {on: 1, off: 0}\n",
            "(document): the YAML key on is read as true or false, not as text; quote it "
            "(line 3, column 14)",
        ),
        (
            "featureA: {enabled: true, 12: x}\n",
            "(document): the YAML key 12 is read as a number, not as text; quote it "
            "(line 1, column 27)",
        ),
        (
            "featureA: {enabled: true, config: " + "[" * 40 + "]" * 40 + "}\n",
            "(document): the YAML document is nested deeper than 32 levels (line 1, column 66)",
        ),
        ("featureA: [unclosed\n", None),
    ],
)
def test_yaml_a_flag_document_may_not_use_is_refused_where_it_is(
    body: str, message: str | None
) -> None:
    with pytest.raises(SchemaValidationError) as caught:
        document_bytes(body.encode(), YAML, "here")
    assert caught.value.source == "here"
    if message is None:  # PyYAML's own message, with its position
        assert str(caught.value).startswith("(document): the YAML document does not parse: ")
        assert "line 2, column 1" in str(caught.value)
    else:
        assert str(caught.value) == message


def test_infinities_and_nan_are_refused_with_their_paths() -> None:
    body = b"featureA:\n  enabled: true\n  ratio: .inf\n  bounds: [-.Inf, 1.0e+400, .NaN, 2.5]\n"
    with pytest.raises(SchemaValidationError) as caught:
        document_bytes(body, YAML, "here")
    tail = (
        " is not a number a document can hold (numbers must be finite, at most about 1.8e308 "
        "in size)"
    )
    assert [str(problem) for problem in caught.value.problems] == [
        f"featureA.ratio: .inf{tail}",
        f"featureA.bounds[0]: -.inf{tail}",
        f"featureA.bounds[1]: .inf{tail}",
        f"featureA.bounds[2]: .nan{tail}",
    ]


def test_plain_yaml_still_reads_as_before() -> None:
    body = (
        b"# flags\n"
        b"featureA:\n"
        b"  enabled: true\n"
        b"  tenants: [acme, 'on']\n"
        b"  percentage: 12.5\n"
        b"  since: 2026-01-31\n"
        b"'off': {enabled: false}\n"
    )
    assert document_bytes(body, YAML, "here") == (
        b'{"featureA": {"enabled": true, "tenants": ["acme", "on"], "percentage": 12.5, '
        b'"since": "2026-01-31"}, "off": {"enabled": false}}'
    )


# -- the size limit, on the YAML and on what it becomes ---------------------------------------


V1: dict[str, Any] = {"featureA": {"enabled": True, "tenants": ["acme"]}}


def rejected_deployment(
    endpoint: AppConfigEndpoint, harness: Harness, body: str, max_bytes: int
) -> SchemaValidationError:
    """Serve V1, deploy the YAML `body`, refresh: the rejection, with V1 still served."""
    endpoint.deploy(APP, ENV, PROFILE, V1)
    source = AppConfigSource(
        APP, ENV, PROFILE, poll_interval=15, client=harness.client(), max_bytes=max_bytes
    )
    flags = harness.track(Flags(source))
    endpoint.deploy(APP, ENV, PROFILE, body, content_type=YAML)
    with pytest.raises(SchemaValidationError) as caught:
        flags.refresh()
    assert caught.value.source == f"appconfig://{APP}/{ENV}/{PROFILE}"
    assert flags.status.last_error == str(caught.value)
    assert (flags.version, flags.enabled("featureA", "acme")) == ("1", True)
    return caught.value


def test_a_deployed_bomb_is_rejected_and_the_last_good_document_kept(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    rejected = rejected_deployment(endpoint, harness, billion_laughs().decode(), 1_000_000)
    assert str(rejected) == ALIASES_REFUSED


def test_the_size_limit_holds_for_the_yaml_text(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    body = "featureA:\n  enabled: true\n  tenants: [" + ", ".join(["acme"] * 60) + "]\n"
    rejected = rejected_deployment(endpoint, harness, body, max_bytes=200)
    assert str(rejected) == f"(document): {len(body)} bytes is larger than the limit of 200 bytes"


def test_the_size_limit_holds_for_the_json_a_yaml_document_becomes(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    """158 bytes of YAML are 344 of JSON (every string quoted): over a 200-byte limit."""
    body = "featureA: {enabled: true, tenants: [" + ",".join(["a"] * 60) + "]}\n"
    built = len(document_bytes(body.encode(), YAML, "here", max_bytes=200))
    assert (len(body), built) == (158, 344)
    rejected = rejected_deployment(endpoint, harness, body, max_bytes=200)
    assert str(rejected) == f"(document): {built} bytes is larger than the limit of 200 bytes"
