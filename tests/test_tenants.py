"""Every accepted tenant form gives the same answer; unusable tenants give the caller's default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pytest

from flagkit import ErrorCode, Evaluation, Flags, Reason, Tenant
from flagkit.sources.memory import MemorySource

# Ranks under salt "pct": globex 3958 (in a 50 % rollout), acme 6559 (out).
DOC: dict[str, Any] = {
    "_segments": {"beta": ["globex"]},
    "static": {"enabled": True},
    "killed": {"enabled": False, "tenants": ["acme", "globex"]},
    "byId": {"enabled": True, "tenants": ["acme"]},
    "bySegment": {"enabled": True, "segments": ["beta"]},
    "byTier": {"enabled": True, "tiers": ["gold"]},
    "byRegion": {
        "enabled": True,
        "rules": [
            {"id": "eu", "when": [{"attribute": "region", "in": ["eu-west-1"]}], "serve": True}
        ],
    },
    "byTierRule": {
        "enabled": True,
        "rules": [{"id": "gold", "when": [{"attribute": "tier", "equals": "gold"}], "serve": True}],
    },
    "byIdRule": {
        "enabled": True,
        "rules": [{"id": "acme", "when": [{"attribute": "id", "equals": "acme"}], "serve": True}],
    },
    "byPlan": {
        "enabled": True,
        "rules": [{"id": "pro", "when": [{"attribute": "plan", "equals": "pro"}], "serve": True}],
    },
    "pct": {"enabled": True, "percentage": 50},
    "sticky": {"enabled": True, "percentage": 50, "stickiness": "region", "salt": "pct"},
    "excluded": {"enabled": True, "excludedTenants": ["acme"]},
    "variant": {
        "enabled": True,
        "variants": {"eu": "EU", "world": "WORLD"},
        "defaultVariant": "world",
        "rules": [{"when": [{"attribute": "region", "equals": "eu-west-1"}], "serve": "eu"}],
    },
}

ATTRIBUTES = {"region": "eu-west-1", "plan": "pro"}


class Plain:
    """An application's own model: `.id` only."""

    def __init__(self, id: str | None) -> None:
        self.id = id


class WithTier:
    """An application's own model: `.id` and `.tier`, no attributes."""

    def __init__(self, id: str | None, tier: str | None) -> None:
        self.id = id
        self.tier = tier


class WithAttributes:
    """An application's own model: `.id`, `.tier` and `.attributes`."""

    def __init__(self, id: str | None, tier: str | None, attributes: Mapping[str, Any]) -> None:
        self.id = id
        self.tier = tier
        self.attributes = attributes


class Property:
    """`.id` and `.tier` as properties, as ORMs have them."""

    def __init__(self, key: str, level: str) -> None:
        self._key, self._level = key, level

    @property
    def id(self) -> str:
        return self._key

    @property
    def tier(self) -> str:
        return self._level


@dataclass(frozen=True)
class Account:
    """A user's dataclass; fields other than id/tier/attributes are not attributes."""

    id: str
    tier: str | None = None
    name: str = "Acme Corp"
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class AccountNoAttributes:
    id: str
    tier: str | None
    plan: str = "pro"


def answer(evaluation: Evaluation) -> tuple[Any, ...]:
    return (
        evaluation.value,
        evaluation.enabled,
        evaluation.variant,
        evaluation.reason,
        evaluation.rule,
        evaluation.error_code,
        evaluation.error_message,
    )


@pytest.fixture(scope="module")
def flags() -> Flags:
    return Flags.from_dict(DOC, version="t1")


# Forms that carry only an id.
ID_ONLY: list[tuple[str, Any]] = [
    ("str", "acme"),
    ("Tenant", Tenant("acme")),
    ("Tenant-kw", Tenant(id="acme", tier=None, attributes={})),
    ("mapping-id", {"id": "acme"}),
    ("mapping-tenant", {"tenant": "acme"}),
    ("mapping-targetingKey", {"targetingKey": "acme"}),
    ("mappingproxy", MappingProxyType({"id": "acme"})),
    ("object-id", Plain("acme")),
    ("object-id-tier-none", WithTier("acme", None)),
    ("object-attributes-none", WithAttributes("acme", None, {})),
    ("dataclass", Account("acme")),
    ("dataclass-no-attributes", AccountNoAttributes("acme", None)),
]

# Forms that carry id "acme", tier "gold" and the attributes region/plan.
FULL: list[tuple[str, Any]] = [
    ("Tenant", Tenant("acme", "gold", ATTRIBUTES)),
    ("Tenant-proxy", Tenant("acme", "gold", MappingProxyType(dict(ATTRIBUTES)))),
    ("mapping-id", {"id": "acme", "tier": "gold", **ATTRIBUTES}),
    ("mapping-tenant", {"tenant": "acme", "tier": "gold", **ATTRIBUTES}),
    ("mapping-targetingKey", {"targetingKey": "acme", "tier": "gold", **ATTRIBUTES}),
    ("object", WithAttributes("acme", "gold", ATTRIBUTES)),
    ("dataclass", Account("acme", "gold", attributes=ATTRIBUTES)),
]

# What the first form of each group must get; every other form must agree with it.
EXPECTED_ID_ONLY = {
    "static": True,
    "killed": False,
    "byId": True,
    "bySegment": False,
    "byTier": False,
    "byRegion": False,
    "byTierRule": False,
    "byIdRule": True,
    "byPlan": False,
    "pct": False,
    "sticky": False,
    "excluded": False,
    "variant": False,  # no rule matched and no offVariant: the caller's default, variant None
}
EXPECTED_FULL = {
    **EXPECTED_ID_ONLY,
    "byTier": True,
    "byRegion": True,
    "byTierRule": True,
    "byPlan": True,
    "variant": True,
    "sticky": True,  # rank of "eu-west-1" under salt "pct" is 3780
}


def test_baselines(flags: Flags) -> None:
    """The reference forms get what the document says, so agreeing with them means something."""
    assert {key: flags.enabled(key, ID_ONLY[0][1]) for key in flags.keys} == EXPECTED_ID_ONLY
    assert {key: flags.enabled(key, FULL[0][1]) for key in flags.keys} == EXPECTED_FULL
    assert flags.evaluate("variant", ID_ONLY[0][1]).variant is None
    assert flags.evaluate("variant", FULL[0][1]).variant == "eu"
    globex = {
        key: flags.enabled(key, Tenant("globex", attributes={"region": "x"})) for key in flags.keys
    }
    assert globex["bySegment"] is True
    assert globex["pct"] is True


@pytest.mark.parametrize("form", [tenant for _, tenant in ID_ONLY], ids=[n for n, _ in ID_ONLY])
def test_id_only_forms_agree(flags: Flags, form: object) -> None:
    reference = ID_ONLY[0][1]
    for key in flags.keys:
        assert answer(flags.evaluate(key, form)) == answer(flags.evaluate(key, reference)), key
        assert flags.enabled(key, form) is EXPECTED_ID_ONLY[key], key
        assert flags.value(key, form, "D") == flags.value(key, reference, "D"), key
    assert flags.enabled_flags(form) == flags.enabled_flags(reference)


@pytest.mark.parametrize("form", [tenant for _, tenant in FULL], ids=[n for n, _ in FULL])
def test_full_forms_agree(flags: Flags, form: object) -> None:
    reference = FULL[0][1]
    for key in flags.keys:
        assert answer(flags.evaluate(key, form)) == answer(flags.evaluate(key, reference)), key
        assert flags.enabled(key, form) is EXPECTED_FULL[key], key
        assert flags.value(key, form, "D") == flags.value(key, reference, "D"), key
    assert flags.enabled_flags(form) == flags.enabled_flags(reference)


@pytest.mark.parametrize(
    "form",
    [WithTier("acme", "gold"), Property("acme", "gold"), AccountNoAttributes("acme", "gold")],
    ids=["object-id-tier", "properties", "dataclass-no-attributes"],
)
def test_objects_with_tier_only(flags: Flags, form: object) -> None:
    reference = Tenant("acme", "gold")
    for key in flags.keys:
        assert answer(flags.evaluate(key, form)) == answer(flags.evaluate(key, reference)), key
    assert flags.enabled("byTier", form) is True
    assert flags.enabled("byTierRule", form) is True
    # A dataclass field is not an attribute: only `.attributes` is.
    assert flags.enabled("byPlan", form) is False


def test_mapping_keys_other_than_id_and_tier_are_attributes(flags: Flags) -> None:
    assert flags.evaluate("byPlan", {"id": "zzz", "plan": "pro"}).rule == "pro"
    assert flags.evaluate("byPlan", {"id": "zzz", "plan": "free"}).rule == "default"
    # The tier key of a mapping is the tier, not an attribute named "tier" ...
    assert flags.evaluate("byTier", {"id": "zzz", "tier": "gold"}).rule == "tiers"
    # ... and a custom stickiness attribute is read from the mapping too.
    assert flags.evaluate("sticky", {"id": "zzz", "region": "eu-west-1"}).rule == "percentage"
    assert flags.evaluate("sticky", {"id": "zzz"}).reason is Reason.DEFAULT


def test_id_key_precedence_in_mappings(flags: Flags) -> None:
    """`id` is looked for first, then `tenant`, then `targetingKey`."""
    assert flags.enabled("byId", {"id": "acme", "tenant": "wayne", "targetingKey": "wayne"})
    assert not flags.enabled("byId", {"id": "wayne", "tenant": "acme"})
    assert flags.enabled("byId", {"tenant": "acme", "targetingKey": "wayne"})
    assert not flags.enabled("byId", {"tenant": "wayne", "targetingKey": "acme"})


# -- tenants that cannot be used: enabled() never raises, it returns the given default ----

UNUSABLE: list[tuple[str, Any]] = [
    ("int", 42),
    ("float", 4.2),
    ("object", object()),
    ("list", ["acme"]),
    ("tuple", ("acme", "gold")),
    ("bytes", b"acme"),
    ("set", {"acme"}),
    ("mapping-int-id", {"id": 42}),
    ("mapping-int-tier", {"id": "acme", "tier": 3}),
    ("Tenant-int-id", Tenant(42)),  # type: ignore[arg-type]
    ("object-int-id", Plain(7)),  # type: ignore[arg-type]
    ("object-bad-attributes", WithAttributes("acme", None, ["x"])),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("default", [True, False])
@pytest.mark.parametrize("tenant", [t for _, t in UNUSABLE], ids=[n for n, _ in UNUSABLE])
def test_unusable_tenant_gets_default(flags: Flags, tenant: object, default: bool) -> None:
    for key in flags.keys:
        if key == "killed":
            # The kill switch consults no tenant, so not even a malformed one can change it.
            assert flags.enabled(key, tenant, default) is False
            assert flags.value(key, tenant, "D") is False
            killed = flags.evaluate(key, tenant, default)
            assert (killed.value, killed.reason, killed.error_code) == (
                False,
                Reason.DISABLED,
                None,
            )
            continue
        assert flags.enabled(key, tenant, default) is default, key
        assert flags.value(key, tenant, "D") == "D", key
        evaluation = flags.evaluate(key, tenant, default)
        assert (evaluation.value, evaluation.reason) == (default, Reason.ERROR), key
    assert flags.enabled("nope", tenant, default) is default
    assert flags.enabled_flags(tenant) == []


# Flags that hash the tenant id at the step that decides: None and "" get the default.
NEEDS_ID = ["pct"]
# Flags that only look the id up in a list: a tenant without one is in no list.
LOOKS_UP_ID = ["byId", "bySegment"]


@pytest.mark.parametrize("default", [True, False])
@pytest.mark.parametrize(
    "tenant",
    [None, "", Tenant(None), Tenant(""), {"id": None}, {"tenant": ""}, Plain(None), {}],
    ids=["None", "empty", "Tenant-None", "Tenant-empty", "map-None", "map-empty", "obj", "map"],
)
def test_missing_id_gets_default(flags: Flags, tenant: object, default: bool) -> None:
    for key in NEEDS_ID:
        assert flags.enabled(key, tenant, default) is default, key
        evaluation = flags.evaluate(key, tenant, default)
        assert (evaluation.value, evaluation.reason) == (default, Reason.ERROR), key
    for key in LOOKS_UP_ID:
        evaluation = flags.evaluate(key, tenant, default)
        assert (evaluation.enabled, evaluation.reason, evaluation.error_code) == (
            False,
            Reason.DEFAULT,
            None,
        ), key
    # Flags that decide without an id still answer.
    assert flags.enabled("static", tenant, False) is True
    assert flags.enabled("killed", tenant, True) is False
    assert flags.enabled("byRegion", tenant, True) is False
    assert flags.enabled("byIdRule", tenant, True) is False


def test_enabled_unknown_flag_gets_default(flags: Flags) -> None:
    assert flags.enabled("nope", "acme") is False
    assert flags.enabled("nope", "acme", True) is True
    assert flags.enabled("nope", None, True) is True


# Keys no flag can have: not even hashable, so a dict lookup would raise TypeError.
UNHASHABLE_KEYS: list[tuple[str, Any, str]] = [
    ("list", ["byId"], "no flag ['byId']: a flag key is a str, not list"),
    ("dict", {"flag": "byId"}, "no flag {'flag': 'byId'}: a flag key is a str, not dict"),
    ("set", {"byId"}, "no flag {'byId'}: a flag key is a str, not set"),
    ("tuple-of-a-list", ("byId", []), "no flag ('byId', []): a flag key is a str, not tuple"),
]


@pytest.mark.parametrize("refresh_mode", ["manual", "on_read"])
@pytest.mark.parametrize("default", [True, False])
@pytest.mark.parametrize(
    ("key", "message"),
    [(key, message) for _, key, message in UNHASHABLE_KEYS],
    ids=[name for name, _, _ in UNHASHABLE_KEYS],
)
def test_unhashable_flag_key_gets_default_and_evaluate_says_why(
    key: Any, message: str, default: bool, refresh_mode: str
) -> None:
    flags = Flags(MemorySource(DOC, version="t1"), refresh_mode=refresh_mode)  # type: ignore[arg-type]
    unknown = flags.evaluate("nope", "acme", default)
    for tenant in ("acme", Tenant("acme", "gold"), None, "", 42):
        assert flags.enabled(key, tenant, default) is default
        assert flags.value(key, tenant, "D") == "D"
        evaluation = flags.evaluate(key, tenant, default)
        assert answer(evaluation) == (
            default,
            False,
            None,
            Reason.ERROR,
            None,
            ErrorCode.FLAG_NOT_FOUND,
            message,
        )
        # Built as an unknown flag's answer is; only the message tells them apart.
        assert answer(evaluation)[:-1] == answer(unknown)[:-1]
        assert (evaluation.flag, evaluation.version, evaluation.attributes) == (key, "t1", {})
    # Nothing else broke: the same Flags answers real keys as before.
    assert flags.enabled("byId", "acme") is True
    assert flags.value("variant", Tenant("acme", attributes=ATTRIBUTES), "D") == "EU"
    assert flags.evaluate("byId", "acme").rule == "tenants"
    flags.close()


# -- a Tenant checks its fields once; enabled() never raises, whatever they hold -----------


@pytest.mark.parametrize(
    ("tenant", "message"),
    [
        (Tenant("acme", tier=5), "tenant tier must be a str, got int"),  # type: ignore[arg-type]
        (Tenant("acme", tier=["gold"]), "tenant tier must be a str, got list"),  # type: ignore[arg-type]
        (Tenant("acme", attributes=["x"]), "tenant attributes must be a mapping, got list"),  # type: ignore[arg-type]
        (Tenant(42), "tenant id must be a str, got int"),  # type: ignore[arg-type]
    ],
    ids=["int-tier", "list-tier", "list-attributes", "int-id"],
)
def test_malformed_tenant_fields_give_the_default_never_an_exception(
    tenant: Tenant, message: str
) -> None:
    flags = Flags.from_dict(
        {
            "tiered": {"enabled": True, "tiers": ["gold"]},
            "static": {"enabled": True},
            "ruled": {
                "enabled": True,
                "rules": [{"when": [{"attribute": "x", "equals": 1}], "serve": True}],
            },
            "sticky": {"enabled": True, "percentage": 50, "stickiness": "userId"},
        }
    )
    for key in flags.keys:
        assert flags.enabled(key, tenant, default=True) is True, key
        assert flags.enabled(key, tenant, default=False) is False, key
        evaluation = flags.evaluate(key, tenant, "D")
        assert (evaluation.value, evaluation.error_code, evaluation.error_message) == (
            "D",
            ErrorCode.INVALID_CONTEXT,
            message,
        ), key


def test_attributes_none_means_no_attributes() -> None:
    assert Tenant("acme", attributes=None).attributes == {}
    flags = Flags.from_dict(
        {
            "f": {
                "enabled": True,
                "rules": [{"when": [{"attribute": "x", "exists": False}], "serve": True}],
            }
        }
    )
    assert flags.enabled("f", Tenant("acme", attributes=None))


def test_mapping_takes_the_first_id_key_that_is_not_none() -> None:
    flags = Flags.from_dict({"f": {"enabled": True, "tenants": ["acme"]}})
    assert flags.enabled("f", {"id": None, "tenant": "acme"})
    assert flags.enabled("f", {"id": None, "targetingKey": "acme"})
