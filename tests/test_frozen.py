"""`flagkit._frozen.Frozen`: frozen, slotted values without importing `dataclasses`."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from pathlib import Path
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


def test_loading_a_document_skips_heavy_modules(tmp_path: Path) -> None:
    """The start-up budget: `import flagkit; Flags.from_file()` stays clear of heavy modules."""
    program = (
        "import sys, flagkit\n"
        "flagkit.Flags.from_file(sys.argv[1])\n"
        "heavy = {'dataclasses', 'inspect', 'typing', 'jsonschema', 'boto3'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    document = tmp_path / "flags.json"
    document.write_text('{"featureA": {"enabled": true, "percentage": 25}}')
    result = subprocess.run(
        [sys.executable, "-c", program, str(document)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == "[]\n"
