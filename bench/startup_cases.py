"""The cases `bench/startup.py` times: flagkit and five peers, each with its own 50-flag document.

Every peer gets the flags of `hot_path.build_document()` in its own format: 50 boolean
flags, each on for the same 100-tenant allow list and for 25 % of all other tenants.
flagkit's document carries more (an exclusion list, a tier, a description, an owner per
flag), so it has more to parse, not less.

A case's `code` is what a fresh interpreter runs and what is timed: import the library and
build a client from the document at `sys.argv[1]`, offline (`sys.argv[2]` is a scratch
directory). Its `answer` is an expression of `key` (a flag) and `tenant` (an id) that a
separate, untimed run evaluates to check the client really holds the flags.
The peers' imports live only in these strings; nothing here imports a peer.
"""

from __future__ import annotations

from dataclasses import dataclass

from hot_path import ALLOWED, FLAG_COUNT, PERCENTAGE, build_document

UNREACHABLE_URL = "http://127.0.0.1:9"
"""The discard port on loopback, for a peer that wants a URL it is told never to use."""


@dataclass(frozen=True)
class Case:
    """One way to start: a library, its document and the code that loads it."""

    name: str
    module: str | None
    """The import the case needs installed; None for flagkit, which is always there."""
    distribution: str | None
    """What `pip install` calls it, for the "skipped" line."""
    file_name: str
    document: object
    code: str
    answer: str
    peer: bool = True


def flag_keys() -> list[str]:
    """The 50 flag keys, in document order."""
    return list(build_document())


FLAGKIT_CODE = """\
import sys
import flagkit
flags = flagkit.Flags.from_file(sys.argv[1])
"""

STDLIB_FIRST = "import typing, dataclasses, logging\n"
"""What flagkit will import once it is built on dataclasses and plain `typing`."""


def flagkit_case(*, stdlib_first: bool = False) -> Case:
    """flagkit's `Flags.from_file`; with `stdlib_first`, the estimate case that imports the
    standard-library modules flagkit is about to depend on before it."""
    return Case(
        name="flagkit+stdlib (estimate)" if stdlib_first else "flagkit",
        module=None,
        distribution=None,
        file_name="flags.json",
        document=build_document(),
        code=STDLIB_FIRST + FLAGKIT_CODE if stdlib_first else FLAGKIT_CODE,
        answer="flags.enabled(key, tenant)",
        peer=False,
    )


def powertools_case() -> Case:
    """FeatureFlags over an in-memory StoreProvider (nothing calls AWS).

    Powertools leaves the hashing to its caller: a rollout is a MODULO_RANGE condition on an
    integer the caller puts in the context. FeatureFlags validates its document on first use;
    `get_configuration()` does that here, as flagkit validates in `from_file`.
    """
    rules = {
        "allow list": {
            "when_match": True,
            "conditions": [{"action": "KEY_IN_VALUE", "key": "tenant_id", "value": ALLOWED}],
        },
        "rollout": {
            "when_match": True,
            "conditions": [
                {
                    "action": "MODULO_RANGE",
                    "key": "tenant_bucket",
                    "value": {"BASE": 100, "START": 0, "END": PERCENTAGE - 1},
                }
            ],
        },
    }
    code = """\
import json, sys
from aws_lambda_powertools.utilities.feature_flags import FeatureFlags, StoreProvider
class InMemoryStore(StoreProvider):
    def __init__(self, path):
        with open(path, encoding="utf-8") as document:
            self.document = json.load(document)
    @property
    def get_raw_configuration(self):
        return self.document
    def get_configuration(self):
        return self.document
flags = FeatureFlags(store=InMemoryStore(sys.argv[1]))
flags.get_configuration()
"""
    answer = (
        "flags.evaluate(name=key, default=False, context={'tenant_id': tenant, "
        "'tenant_bucket': __import__('zlib').crc32(tenant.encode()) % 100})"
    )
    return Case(
        name="AWS Lambda Powertools",
        module="aws_lambda_powertools",
        distribution="aws-lambda-powertools",
        file_name="powertools.json",
        document={key: {"default": False, "rules": rules} for key in flag_keys()},
        code=code,
        answer=answer,
    )


def launchdarkly_case() -> Case:
    """LDClient on the SDK's file data source; events and diagnostics off."""
    flags = {
        key: {
            "key": key,
            "version": 1,
            "on": True,
            "variations": [True, False],
            "offVariation": 1,
            "targets": [{"values": ALLOWED, "variation": 0}],
            "fallthrough": {
                "rollout": {
                    "variations": [
                        {"variation": 0, "weight": PERCENTAGE * 1000},
                        {"variation": 1, "weight": (100 - PERCENTAGE) * 1000},
                    ]
                }
            },
            "salt": key,
        }
        for key in flag_keys()
    }
    code = """\
import sys
from ldclient import LDClient
from ldclient.config import Config
from ldclient.integrations import Files
client = LDClient(Config(
    "offline-bench-key",
    update_processor_class=Files.new_data_source(paths=[sys.argv[1]]),
    send_events=False,
    diagnostic_opt_out=True,
))
"""
    return Case(
        name="LaunchDarkly",
        module="ldclient",
        distribution="launchdarkly-server-sdk",
        file_name="launchdarkly.json",
        document={"flags": flags},
        code=code,
        answer="client.variation(key, __import__('ldclient').Context.create(tenant), False)",
    )


def unleash_case() -> Case:
    """UnleashClient from a bootstrapped cache; never initialized, so nothing is fetched,
    registered or reported (metrics and registration are off as well)."""
    features = [
        {
            "name": key,
            "enabled": True,
            "strategies": [
                {"name": "userWithId", "parameters": {"userIds": ",".join(ALLOWED)}},
                {
                    "name": "flexibleRollout",
                    "parameters": {
                        "rollout": str(PERCENTAGE),
                        "stickiness": "userId",
                        "groupId": key,
                    },
                },
            ],
        }
        for key in flag_keys()
    ]
    code = f"""\
import sys
from UnleashClient import UnleashClient
from UnleashClient.cache import FileCache
cache = FileCache("flagkit-bench", directory=sys.argv[2])
cache.bootstrap_from_file(sys.argv[1])
client = UnleashClient(
    url={UNREACHABLE_URL!r},
    app_name="flagkit-bench",
    disable_metrics=True,
    disable_registration=True,
    cache=cache,
)
"""
    return Case(
        name="Unleash",
        module="UnleashClient",
        distribution="UnleashClient",
        file_name="unleash.json",
        document={"version": 1, "features": features},
        code=code,
        answer="client.is_enabled(key, {'userId': tenant})",
    )


def growthbook_case() -> Case:
    """GrowthBook(features=...): no API host, no client key, so nothing is fetched."""
    rules = [
        {"condition": {"id": {"$in": ALLOWED}}, "force": True},
        {"force": True, "coverage": PERCENTAGE / 100, "hashAttribute": "id"},
    ]
    code = """\
import json, sys
from growthbook import GrowthBook
with open(sys.argv[1], encoding="utf-8") as document:
    book = GrowthBook(features=json.load(document))
"""
    return Case(
        name="GrowthBook",
        module="growthbook",
        distribution="growthbook",
        file_name="growthbook.json",
        document={key: {"defaultValue": False, "rules": rules} for key in flag_keys()},
        code=code,
        answer="(book.set_attributes({'id': tenant}), book.is_on(key))[1]",
    )


def flagsmith_case() -> Case:
    """Flagsmith in offline mode on a local environment document (LocalFileHandler).

    Each flag is off for the environment and on for a segment: the identity is in the allow
    list, or falls in a 25 % PERCENTAGE_SPLIT.
    """
    feature_states = []
    segments = []
    for number, key in enumerate(flag_keys(), start=1):
        feature = {"id": number, "name": key}
        feature_states.append(feature_state(feature, number, enabled=False))
        condition_in = {
            "operator": "IN",
            "property_": "$.identity.identifier",
            "value": ",".join(ALLOWED),
        }
        condition_split = {
            "operator": "PERCENTAGE_SPLIT",
            "property_": "",
            "value": str(PERCENTAGE),
        }
        segments.append(
            {
                "id": number,
                "name": f"{key} audience",
                "rules": [
                    {
                        "type": "ALL",
                        "conditions": [],
                        "rules": [
                            {
                                "type": "ANY",
                                "conditions": [condition_in, condition_split],
                                "rules": [],
                            }
                        ],
                    }
                ],
                "feature_states": [
                    {
                        **feature_state(feature, FLAG_COUNT + number, enabled=True),
                        "feature_segment": {"priority": 0},
                    }
                ],
            }
        )
    document = {
        "api_key": "offline-bench",
        "name": "bench",
        "feature_states": feature_states,
        "identity_overrides": [],
        "project": {"segments": segments},
    }
    code = """\
import sys
from flagsmith import Flagsmith
from flagsmith.offline_handlers import LocalFileHandler
client = Flagsmith(offline_mode=True, offline_handler=LocalFileHandler(sys.argv[1]))
"""
    return Case(
        name="Flagsmith",
        module="flagsmith",
        distribution="flagsmith",
        file_name="flagsmith.json",
        document=document,
        code=code,
        answer="client.get_identity_flags(tenant).is_feature_enabled(key)",
    )


def feature_state(feature: dict[str, object], number: int, *, enabled: bool) -> dict[str, object]:
    """A Flagsmith feature state, as its environment document spells one."""
    return {
        "enabled": enabled,
        "feature": feature,
        "feature_state_value": None,
        "featurestate_uuid": f"00000000-0000-4000-8000-{number:012d}",
        "multivariate_feature_state_values": [],
    }


def all_cases(*, with_stdlib_estimate: bool) -> list[Case]:
    """flagkit, optionally its estimate case, then the peers."""
    cases = [flagkit_case()]
    if with_stdlib_estimate:
        cases.append(flagkit_case(stdlib_first=True))
    return [
        *cases,
        powertools_case(),
        launchdarkly_case(),
        unleash_case(),
        growthbook_case(),
        flagsmith_case(),
    ]
