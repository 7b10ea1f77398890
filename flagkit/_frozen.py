"""`Frozen`: the base of flagkit's immutable values, declared like frozen dataclasses.

A subclass lists annotated fields, with defaults where wanted, exactly as a
`@dataclass(frozen=True, slots=True)` would; type checkers treat it as one
(PEP 681, `dataclass_transform`): the generated `__init__` is checked and
assigning to a field is an error. At run time the class gets:

- `__slots__` for the fields it adds, and an `__init__(self, field, ..., field=default)`
  over every field, its bases' first (a field declared again keeps its place and takes
  the new default);
- `__repr__`, and `__eq__` and `__hash__` comparing the public fields as a tuple, for
  values of exactly the same class (a class may define its own, or pass `eq=False` to
  compare by identity);
- `__match_args__`, `__replace__` (`copy.replace` on Python 3.13+), pickling (a read-only
  mapping field travels as a dict) and a `__setattr__` that refuses.

A subclass that declares no fields (one that only adds methods) inherits everything,
including a hand-written `__init__`.

Fields whose names start with `_` are private: kept in a slot, left out of the repr,
the comparison, the hash and `__match_args__`. A class with a private field writes its
own `__init__` (declaring the field `= derived()` for type checkers), and so must a
subclass that adds fields to it.

Limits, beyond those of slotted dataclasses: the metaclass cannot be combined with
another (`abc.ABC`), a field cannot be named `self`, and a base class that defines
`__setattr__` before `Frozen` in the MRO makes the values mutable.

Why not `dataclasses` itself: importing it (it imports `inspect`) and building a dozen
frozen dataclasses took about 30 ms, most of the 40 ms that
`import flagkit; Flags.from_file(...)` may add to an interpreter's start. A `Frozen`
class costs about 0.3 ms. What `dataclasses` offers beyond this is not here:
`dataclasses.fields()`, `replace()` and `asdict()` do not apply, and the annotations are
strings that name what modules import only for type checkers, so `typing.get_type_hints`
(and tools built on it, like pydantic) cannot resolve them.

For the same reason the modules that `import flagkit` loads do not import `typing` at
run time (about 6 ms): they write `TYPE_CHECKING = False` and import their annotations'
names under `if TYPE_CHECKING:`, an idiom mypy reads as `typing.TYPE_CHECKING` (PEP 781).
"""

from __future__ import annotations

import sys
from operator import attrgetter
from types import MappingProxyType

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, ClassVar, Self, dataclass_transform
else:

    def dataclass_transform(**_options: object) -> Any:
        """At run time the marker is only for type checkers."""
        return lambda target: target


__all__ = ["Frozen", "FrozenInstanceError", "derived"]


class FrozenInstanceError(AttributeError):
    """Raised on an attempt to assign or delete a field of a `Frozen` value."""


def _rebuild(cls: type[Frozen], values: tuple[Any, ...], proxied: tuple[int, ...] = ()) -> Frozen:
    """Unpickle or copy a `Frozen` value: its fields as they were, without `__init__`.

    The fields at `proxied` were read-only mappings (which pickle cannot carry) sent as
    dicts; they become read-only mappings again.
    """
    value = object.__new__(cls)
    for index, (field, field_value) in enumerate(zip(cls.__frozen_fields__, values, strict=True)):
        if index in proxied:
            field_value = MappingProxyType(field_value)
        object.__setattr__(value, field, field_value)
    return value


def _class_annotations(namespace: dict[str, Any]) -> dict[str, Any]:
    """The annotations of a class body being created, by name.

    Strings under `from __future__ import annotations` (every flagkit module), values
    otherwise; on Python 3.14+ without the future import the class body holds an
    annotate function instead (PEP 649), which is asked for strings.
    """
    if "__annotations__" in namespace:
        annotations: dict[str, Any] = namespace["__annotations__"]
        return annotations
    if sys.version_info >= (3, 14):
        import annotationlib

        annotate = annotationlib.get_annotate_from_class_namespace(namespace)
        if annotate is not None:
            return annotationlib.call_annotate_function(annotate, annotationlib.Format.STRING)
    return {}


def _is_class_variable(annotation: object) -> bool:
    """Whether an annotation is `ClassVar[...]`, however it is spelt or evaluated."""
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.split("[", 1)[0].strip().rsplit(".", 1)[-1] == "ClassVar"


def _generated_init(qualname: str, fields: tuple[str, ...], defaults: dict[str, Any]) -> Any:
    """An `__init__(self, field, ..., field=default)` that sets each slot: as fast as a
    hand-written one, with its parameter names and errors."""
    parameters = []
    for field in fields:
        if field in defaults:
            parameters.append(f"{field}=__default_{field}")
        elif parameters and "=" in parameters[-1]:
            name = qualname.rsplit(".", 1)[-1]
            raise TypeError(f"{name}: non-default field {field!r} follows a default one")
        else:
            parameters.append(field)
    body = "".join(f"\n    __set(self, {field!r}, {field})" for field in fields) or "\n    pass"
    source = f"def __init__(self, {', '.join(parameters)}):{body}\n"
    scope: dict[str, Any] = {f"__default_{field}": value for field, value in defaults.items()}
    scope["__set"] = object.__setattr__
    # The source is built from the class's own field names, which are identifiers.
    exec(source, scope)  # noqa: S102
    init = scope["__init__"]
    init.__qualname__ = f"{qualname}.__init__"
    return init


def _repr_of(fields: tuple[str, ...]) -> Any:
    def __repr__(self: Frozen) -> str:
        shown = ", ".join(f"{field}={getattr(self, field)!r}" for field in fields)
        return f"{type(self).__qualname__}({shown})"

    return __repr__


def _tuple_of(fields: tuple[str, ...]) -> Any:
    """A function giving a value's `fields` as a tuple (attrgetter alone unpacks one field)."""
    if len(fields) == 1:
        (field,) = fields
        return lambda value: (getattr(value, field),)
    return attrgetter(*fields) if fields else (lambda _value: ())


def _comparison_of(fields: tuple[str, ...]) -> tuple[Any, Any]:
    """`__eq__` and `__hash__` over `fields`, for values of exactly the same class."""
    values = _tuple_of(fields)

    def __eq__(self: Frozen, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(values(self) == values(other))
        return NotImplemented

    def __hash__(self: Frozen) -> int:
        return hash((type(self).__qualname__, values(self)))

    return __eq__, __hash__


def _set_comparison(
    namespace: dict[str, Any], public: tuple[str, ...], *, eq: bool, inherited: bool
) -> None:
    """Put `__eq__` and `__hash__` in a class body, as a frozen dataclass would.

    `eq=False` compares by identity. Otherwise the class's own `__eq__` is kept and
    given a field `__hash__` (a Python class defining `__eq__` alone is unhashable); a
    class that `inherited` its fields also inherits the comparison of its base.
    """
    if not eq:
        namespace.setdefault("__eq__", object.__eq__)
        namespace.setdefault("__hash__", object.__hash__)
        return
    generated_eq, generated_hash = _comparison_of(public)
    if not inherited:
        namespace.setdefault("__eq__", generated_eq)
    if "__eq__" in namespace:
        namespace.setdefault("__hash__", generated_hash)


def derived(*, default: Any = None, init: bool = False) -> Any:
    """A field that `__init__` computes rather than takes: `_x: int = derived(default=0)`.

    For type checkers (a PEP 681 field specifier), so that a subclass that inherits a
    hand-written `__init__` is checked against the parameters it really has. At run time
    the class writes its own `__init__`, which sets the field.
    """
    return default


@dataclass_transform(frozen_default=True, field_specifiers=(derived,))
class _FrozenMeta(type):
    """Builds `Frozen` subclasses: slots from the annotations, then the generated methods."""

    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        *,
        eq: bool = True,
    ) -> _FrozenMeta:
        if not bases:  # `Frozen` itself: nothing to generate.
            return super().__new__(mcs, name, bases, namespace)
        inherited: tuple[str, ...] = ()
        defaults: dict[str, Any] = {}
        written_init = None  # a base whose `__init__` is hand-written
        for base in bases:
            inherited += tuple(
                field for field in getattr(base, "__frozen_fields__", ()) if field not in inherited
            )
            base_defaults = getattr(base, "__frozen_defaults__", {})
            if base_defaults is None:
                written_init = base
            else:
                defaults = {**base_defaults, **defaults}
        declared = tuple(
            field
            for field, annotation in _class_annotations(namespace).items()
            if not _is_class_variable(annotation)
        )
        added = tuple(field for field in declared if field not in inherited)
        namespace["__slots__"] = added
        for field in declared:  # declared again without a default: now required
            defaults.pop(field, None)
        defaults.update((field, namespace.pop(field)) for field in declared if field in namespace)
        fields = inherited + added
        public = tuple(field for field in fields if not field.startswith("_"))
        if not declared:  # Methods only: the fields, `__init__` and `__repr__` are inherited.
            if "__init__" in namespace:
                namespace["__frozen_defaults__"] = None
            _set_comparison(namespace, public, eq=eq, inherited=True)
            return super().__new__(mcs, name, bases, namespace)
        qualname = namespace.get("__qualname__", name)
        namespace["__frozen_fields__"] = fields
        namespace.setdefault("__match_args__", public)
        if "__init__" in namespace:
            namespace["__frozen_defaults__"] = None
        elif written_init is not None or len(public) < len(fields):
            cause = (
                f"{written_init.__name__} has a hand-written __init__"
                if written_init is not None
                else "it has private fields"
            )
            raise TypeError(f"{name} must define __init__: {cause}")
        else:
            namespace["__frozen_defaults__"] = defaults
            namespace["__init__"] = _generated_init(qualname, fields, defaults)
        namespace.setdefault("__repr__", _repr_of(public))
        _set_comparison(namespace, public, eq=eq, inherited=False)
        return super().__new__(mcs, name, bases, namespace)


class Frozen(metaclass=_FrozenMeta):
    """Subclass and annotate fields; see the module docstring."""

    __slots__ = ()
    __frozen_fields__: ClassVar[tuple[str, ...]] = ()
    __frozen_defaults__: ClassVar[dict[str, Any] | None] = {}
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to {name!r}: a {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete {name!r}: a {type(self).__name__} is frozen")

    def __replace__(self, **changes: Any) -> Self:
        """A copy with `changes` (`copy.replace(value, field=...)` on Python 3.13+).

        It is made by `__init__`, so a class that derives private fields (`Tenant`)
        derives them again.
        """
        public = {field: getattr(self, field) for field in self.__match_args__}
        return type(self)(**{**public, **changes})

    def __reduce__(self) -> tuple[Any, ...]:
        values = [getattr(self, field) for field in self.__frozen_fields__]
        proxied = tuple(i for i, value in enumerate(values) if type(value) is MappingProxyType)
        for index in proxied:
            values[index] = dict(values[index])
        return _rebuild, (type(self), tuple(values), proxied)
