"""`flagkit._frozen.Frozen`: frozen, slotted values without importing `dataclasses`."""

from __future__ import annotations

import copy
import pickle
import sys
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit import Flags, Problem, Tenant
from flagkit._frozen import Frozen, FrozenInstanceError


class Point(Frozen):
    x: int
    y: int = 0
    label: str | None = None
    UNIT: ClassVar[str] = "px"


class Pair(Frozen):
    x: int
    y: int = 0


class Handle(Frozen, eq=False):
    name: str


class Secretive(Frozen):
    shown: str
    _hidden: str

    def __init__(self, shown: str) -> None:
        object.__setattr__(self, "shown", shown)
        object.__setattr__(self, "_hidden", shown.upper())


def test_init_takes_fields_in_order_with_defaults() -> None:
    point = Point(1, label="a")
    assert (point.x, point.y, point.label) == (1, 0, "a")
    assert Point(x=2, y=3) == Point(2, 3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: Point(),  # type: ignore[call-arg]
            "Point.__init__() missing 1 required positional argument: 'x'",
            id="missing",
        ),
        pytest.param(
            lambda: Point(1, 2, "a", 4),  # type: ignore[call-arg]
            "Point.__init__() takes from 2 to 4 positional arguments but 5 were given",
            id="too-many",
        ),
        pytest.param(
            lambda: Point(1, z=2),  # type: ignore[call-arg]
            "Point.__init__() got an unexpected keyword argument 'z'",
            id="unknown-keyword",
        ),
    ],
)
def test_init_errors_read_like_a_hand_written_init(call: object, message: str) -> None:
    with pytest.raises(TypeError) as caught:
        call()  # type: ignore[operator]
    assert str(caught.value) == message


def test_class_variables_are_not_fields() -> None:
    assert Point.__frozen_fields__ == ("x", "y", "label")
    assert Point.__match_args__ == ("x", "y", "label")
    assert Point.UNIT == "px"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda p: setattr(p, "x", 5), "cannot assign to 'x': a Point is frozen", id="assign"
        ),
        pytest.param(
            lambda p: setattr(p, "z", 5), "cannot assign to 'z': a Point is frozen", id="new"
        ),
        pytest.param(
            lambda p: delattr(p, "y"), "cannot delete 'y': a Point is frozen", id="delete"
        ),
    ],
)
def test_fields_cannot_change(change: object, message: str) -> None:
    point = Point(1, 2)
    with pytest.raises(FrozenInstanceError) as caught:
        change(point)  # type: ignore[operator]
    assert str(caught.value) == message
    assert isinstance(caught.value, AttributeError)
    assert (point.x, point.y) == (1, 2)


def test_values_are_slotted() -> None:
    assert not hasattr(Point(1), "__dict__")
    slots: tuple[str, ...] = Point.__slots__
    assert slots == ("x", "y", "label")


def test_equality_and_hash_follow_the_fields_and_the_class() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert Point(1, 2) != Point(1, 3)
    point: object = Point(1, 2)
    assert point != Pair(1, 2)
    assert point != (1, 2, None)
    assert len({Point(1, 2), Point(1, 2), Point(2, 2)}) == 2


def test_eq_false_compares_identity() -> None:
    handle = Handle("a")
    assert handle == handle
    assert handle != Handle("a")
    assert hash(handle) == object.__hash__(handle)


def test_private_fields_stay_out_of_repr_and_comparison() -> None:
    assert repr(Secretive("a")) == "Secretive(shown='a')"
    assert Secretive("a")._hidden == "A"
    assert Secretive("a") == Secretive("a")
    match_args: tuple[str, ...] = Secretive.__match_args__
    assert match_args == ("shown",)


def test_repr_names_every_public_field() -> None:
    assert repr(Point(1, label="a")) == "Point(x=1, y=0, label='a')"


def test_pattern_matching_uses_the_fields_in_order() -> None:
    match Problem("featureA.percentage", "too big"):
        case Problem(path, message):
            assert (path, message) == ("featureA.percentage", "too big")
        case _:  # pragma: no cover - a failure if reached
            pytest.fail("Problem did not match its own fields")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(Point(1, 2, "a"), id="point"),
        pytest.param(Problem("a.b", "wrong"), id="problem"),
        pytest.param(Tenant("acme", tier="gold", attributes={"plan": "x"}), id="tenant"),
        pytest.param(Tenant("acme"), id="tenant-without-attributes"),
        pytest.param(
            Flags.from_dict({"a": {"enabled": True, "owner": "x"}}).evaluate("a", "acme"),
            id="evaluation",
        ),
    ],
)
def test_copies_and_pickles_keep_every_field(value: Frozen) -> None:
    pickled = pickle.loads(pickle.dumps(value))  # noqa: S301 - our own bytes
    for duplicate in (copy.copy(value), copy.deepcopy(value), pickled):
        assert type(duplicate) is type(value)
        fields = value.__frozen_fields__
        assert [getattr(duplicate, f) for f in fields] == [getattr(value, f) for f in fields]
        # A read-only mapping (pickle cannot carry one) comes back read-only.
        assert [type(getattr(duplicate, f)) for f in fields] == [
            type(getattr(value, f)) for f in fields
        ]


def test_a_required_field_after_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match=r"^Late: non-default field 'y' follows a default one$"):

        class Late(Frozen):
            x: int = 0
            y: int  # type: ignore[misc]


@given(st.integers(), st.integers(), st.none() | st.text())
def test_equal_fields_make_equal_values_and_round_trip(x: int, y: int, label: str | None) -> None:
    point = Point(x, y, label)
    assert point == Point(x, y, label)
    assert pickle.loads(pickle.dumps(point)) == point  # noqa: S301 - our own bytes
    assert (point == Point(x + 1, y, label)) is False


# -- subclasses ---------------------------------------------------------------------------------


class AppTenant(Tenant):
    """An application's tenant: methods only, so everything, `__init__` included, is inherited.

    mypy checks it against the same parameters (`_problem` is `derived`): no ignores below.
    """

    def label(self) -> str:
        return f"{self.id}@{self.tier}"


def test_a_subclass_that_only_adds_methods_keeps_the_hand_written_init() -> None:
    tenant = AppTenant("acme", "gold")
    assert tenant.label() == "acme@gold"
    assert tenant.attributes == {}
    assert repr(tenant) == "AppTenant(id='acme', tier='gold', attributes=mappingproxy({}))"
    assert AppTenant(5)._problem == "tenant id must be a str, got int"  # type: ignore[arg-type]
    flags = Flags.from_dict({"gold": {"enabled": True, "tiers": ["gold"]}})
    assert flags.enabled("gold", tenant) is True
    free = AppTenant("acme", "free")
    assert flags.evaluate("gold", free).reason == "DEFAULT"


def test_adding_fields_to_a_class_with_a_hand_written_init_needs_an_init() -> None:
    with pytest.raises(
        TypeError, match=r"^Regional must define __init__: Tenant has a hand-written __init__$"
    ):

        class Regional(Tenant):
            region: str = "eu"


def test_private_fields_need_a_hand_written_init() -> None:
    with pytest.raises(TypeError, match=r"^Cached must define __init__: it has private fields$"):

        class Cached(Frozen):
            key: str
            _memo: str = ""


class Point3(Point):
    z: int = 5


class Shifted(Point):
    y: int = 7  # declared again: keeps its place, takes the new default


def test_a_subclass_adds_fields_after_its_bases_and_keeps_their_defaults() -> None:
    assert Point3.__frozen_fields__ == ("x", "y", "label", "z")
    assert Point3(1) == Point3(1, 0, None, 5)
    assert repr(Point3(1, z=2)) == "Point3(x=1, y=0, label=None, z=2)"
    slots: tuple[str, ...] = Point3.__slots__
    assert slots == ("z",)


def test_a_field_declared_again_keeps_its_place_and_takes_the_new_default() -> None:
    assert Shifted.__frozen_fields__ == ("x", "y", "label")
    assert Shifted(1).y == 7
    slots: tuple[str, ...] = Shifted.__slots__
    assert slots == ()


def test_class_variables_are_recognised_however_they_are_spelt() -> None:
    import typing

    class Spelt(Frozen):
        a: int
        B: typing.ClassVar[int] = 3
        C: ClassVar[str] = "c"

    assert Spelt.__frozen_fields__ == ("a",)
    assert (Spelt.B, Spelt.C) == (3, "c")


class Measured(Frozen):
    value: float


def test_a_single_field_compares_as_a_tuple_like_a_dataclass() -> None:
    nan = float("nan")
    assert Measured(nan) == Measured(nan)  # the same object: equal, as (nan,) == (nan,)
    assert Measured(1.0) != Measured(2.0)


class Loose(Frozen):
    a: int

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Loose) and abs(self.a - other.a) <= 1


def test_a_class_with_its_own_eq_stays_hashable() -> None:
    assert Loose(1) == Loose(2)
    assert hash(Loose(1)) == hash(Loose(1))


def test_replace_makes_a_changed_copy_through_init() -> None:
    assert Point(1, 2).__replace__(label="moved") == Point(1, 2, "moved")
    tenant = Tenant("acme", attributes={"plan": "pro"})
    changed = tenant.__replace__(id=5)
    assert changed.attributes == {"plan": "pro"}
    assert changed._problem == "tenant id must be a str, got int"  # derived again by __init__
    if sys.version_info >= (3, 13):
        assert copy.replace(Point(1), y=3) == Point(1, 3)


def test_the_generated_init_has_a_plain_signature() -> None:
    import inspect

    assert str(inspect.signature(Point)) == "(x, y=0, label=None)"


class Labelled(Point):
    """Methods only, with its own `__init__`: a subclass adding fields must write one too."""

    def __init__(self, x: int) -> None:
        super().__init__(x, 0, f"#{x}")


def test_a_hand_written_init_in_a_methods_only_subclass_is_honoured() -> None:
    assert Labelled(3) == Labelled(3)
    assert Labelled(3).label == "#3"
    with pytest.raises(TypeError, match=r"^Deeper must define __init__: Labelled has a hand-"):

        class Deeper(Labelled):
            depth: int = 1


class PointByIdentity(Point, eq=False):
    pass


class PointRoughly(Point):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and other.x == self.x


def test_a_methods_only_subclass_can_change_the_comparison() -> None:
    point = PointByIdentity(1)
    assert point == point
    assert point != PointByIdentity(1)
    assert hash(point) == object.__hash__(point)
    assert PointRoughly(1, 2) == PointRoughly(1, 3)
    assert hash(PointRoughly(1, 2)) == hash(PointRoughly(1, 2))  # still hashable


class Ordered(Frozen):
    a: int
    b: int
    __match_args__ = ("b",)


def test_a_class_keeps_its_own_match_args() -> None:
    match Ordered(1, 2):
        case Ordered(second):
            assert second == 2
        case _:  # pragma: no cover - a failure if reached
            pytest.fail("Ordered did not match its own __match_args__")


def test_a_field_declared_again_without_a_default_becomes_required() -> None:
    with pytest.raises(
        TypeError, match=r"^Strict: non-default field 'label' follows a default one$"
    ):

        class Strict(Point):
            label: str | None  # type: ignore[misc]
