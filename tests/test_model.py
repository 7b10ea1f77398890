"""flagkit's values are standard frozen dataclasses: copied, pickled, replaced and introspected."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import typing
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit import Evaluation, Flags, FlagsStatus, Problem, Reason, Tenant
from flagkit.flagset import Decision
from flagkit.model import EMPTY_ATTRIBUTES, tenant_from_context
from flagkit.sources import Snapshot

VALUES = [
    pytest.param(Problem("a.b", "wrong"), id="problem"),
    pytest.param(Tenant("acme", tier="gold", attributes={"plan": "x"}), id="tenant"),
    pytest.param(Tenant("acme"), id="tenant-without-attributes"),
    pytest.param(Tenant(42), id="malformed-tenant"),  # type: ignore[arg-type]
    pytest.param(
        Flags.from_dict({"a": {"enabled": True, "owner": "x"}}).evaluate("a", "acme"),
        id="evaluation",
    ),
    pytest.param(Snapshot(b"{}", "v1", as_of=12.5), id="snapshot"),
]


@pytest.mark.parametrize("value", VALUES)
def test_copies_and_pickles_keep_every_field(value: Any) -> None:
    pickled = pickle.loads(pickle.dumps(value))  # noqa: S301 - our own bytes
    fields = [field.name for field in dataclasses.fields(value)]
    for duplicate in (copy.copy(value), copy.deepcopy(value), pickled):
        assert type(duplicate) is type(value)
        assert duplicate == value
        assert [getattr(duplicate, f) for f in fields] == [getattr(value, f) for f in fields]
        # A read-only mapping (pickle cannot carry one by itself) comes back read-only.
        assert [type(getattr(duplicate, f)) for f in fields] == [
            type(getattr(value, f)) for f in fields
        ]


@pytest.mark.parametrize("value", VALUES)
def test_values_are_frozen_and_slotted(value: Any) -> None:
    field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot assign to field '{field}'"):
        setattr(value, field, None)
    assert not hasattr(value, "__dict__")


def test_dataclass_helpers_work_on_flagkit_values() -> None:
    tenant = Tenant("acme", tier="gold", attributes={"plan": "pro"})
    assert [field.name for field in dataclasses.fields(tenant) if field.init] == [
        "id",
        "tier",
        "attributes",
    ]
    assert dataclasses.asdict(tenant) == {
        "id": "acme",
        "tier": "gold",
        "attributes": {"plan": "pro"},
        "_problem": None,
    }
    moved = dataclasses.replace(tenant, tier="silver")
    assert (moved.id, moved.tier, moved.attributes) == ("acme", "silver", {"plan": "pro"})
    broken = dataclasses.replace(tenant, tier=7)  # type: ignore[arg-type]
    assert broken._problem == "tenant tier must be a str, got int"  # derived again by __init__
    evaluation = Evaluation("f", True, True, "on", Reason.STATIC)
    assert dataclasses.asdict(evaluation)["attributes"] == {}
    assert dataclasses.replace(evaluation, value=False).value is False


@pytest.mark.parametrize("cls", [Tenant, Evaluation, FlagsStatus, Problem, Decision, Snapshot])
def test_type_hints_resolve(cls: type[Any]) -> None:
    hints = typing.get_type_hints(cls)
    assert set(hints) >= {field.name for field in dataclasses.fields(cls)}


def test_tenant_without_attributes_shares_the_read_only_empty_mapping() -> None:
    assert Tenant("acme").attributes is EMPTY_ATTRIBUTES
    assert Tenant("acme", attributes=None).attributes is EMPTY_ATTRIBUTES
    assert isinstance(EMPTY_ATTRIBUTES, MappingProxyType)


def test_pattern_matching_uses_the_public_fields_in_order() -> None:
    match Tenant("acme", "gold"):
        case Tenant(tenant_id, tier, attributes):
            assert (tenant_id, tier, attributes) == ("acme", "gold", {})
        case _:  # pragma: no cover - a failure if reached
            pytest.fail("Tenant did not match its own fields")
    match Problem("featureA.percentage", "too big"):
        case Problem(path, message):
            assert (path, message) == ("featureA.percentage", "too big")
        case _:  # pragma: no cover - a failure if reached
            pytest.fail("Problem did not match its own fields")


def test_the_problem_of_a_tenant_is_private() -> None:
    assert repr(Tenant(7)) == "Tenant(id=7, tier=None, attributes=mappingproxy({}))"  # type: ignore[arg-type]
    assert Tenant("a") == Tenant("a")


@given(
    targeting_key=st.one_of(st.none(), st.text(max_size=8)),
    context=st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=4), max_size=5),
)
def test_a_context_maps_to_a_tenant_one_way(
    targeting_key: str | None, context: Mapping[str, Any]
) -> None:
    """The targeting key is the id, `tier` the tier, the other keys (not skipped) attributes."""
    tenant = tenant_from_context(targeting_key, context, skip=("skipped",))
    assert tenant.id == targeting_key
    assert tenant.tier == context.get("tier")
    assert dict(tenant.attributes) == {
        name: value for name, value in context.items() if name not in ("tier", "skipped")
    }
