"""`Frozen`: the base of flagkit's immutable values, declared like frozen dataclasses.

A subclass lists annotated fields, with defaults where wanted, exactly as a
`@dataclass(frozen=True, slots=True)` would; type checkers treat it as one
(PEP 681, `dataclass_transform`): the generated `__init__` is checked and
assigning to a field is an error. At run time the class gets `__slots__`, an
`__init__` compiled on its first call, a `__repr__`, `__eq__` and `__hash__` over its public
fields (a class may define its own, or pass `eq=False` to compare by identity),
pickling (a read-only mapping field travels as a dict), and a `__setattr__` that
refuses.

Why not `dataclasses` itself: importing it (it imports `inspect`) and building a
dozen frozen dataclasses took about 30 ms, most of the 40 ms that
`import flagkit; Flags.from_file(...)` may add to an interpreter's start. This
module does the part flagkit uses for about 0.3 ms a class.

For the same reason the modules that `import flagkit` loads do not import
`typing` at run time (about 6 ms): they write `TYPE_CHECKING = False` and import
their annotations' names under `if TYPE_CHECKING:`, an idiom mypy reads as
`typing.TYPE_CHECKING` (PEP 781).

Fields whose names start with `_` are private: kept in a slot, left out of the
repr, the comparison and the hash. A class with a private field defines its own
`__init__` to fill it.
"""

from __future__ import annotations

from operator import attrgetter
from types import MappingProxyType

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, ClassVar, dataclass_transform
else:

    def dataclass_transform(**_options: object) -> Any:
        """At run time the marker is only for type checkers."""
        return lambda target: target


__all__ = ["Frozen", "FrozenInstanceError"]


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


def _init_parameters(class_name: str, fields: tuple[str, ...], defaults: dict[str, Any]) -> str:
    """The parameter list of a generated `__init__`; refuses a required field after a default."""
    parameters = []
    for field in fields:
        if field in defaults:
            parameters.append(f"{field}=__default_{field}")
        elif parameters and "=" in parameters[-1]:
            raise TypeError(f"{class_name}: non-default field {field!r} follows a default one")
        else:
            parameters.append(field)
    return ", ".join(parameters)


def _generated_init(cls: type, parameters: str, defaults: dict[str, Any]) -> Any:
    """An `__init__(self, field, ..., field=default)` that sets each slot: fast, with the
    parameter names and errors of a hand-written one."""
    fields = cls.__frozen_fields__  # type: ignore[attr-defined]
    body = "".join(f"\n    __set(self, {field!r}, {field})" for field in fields) or "\n    pass"
    source = f"def __init__(self, {parameters}):{body}\n"
    scope: dict[str, Any] = {f"__default_{field}": value for field, value in defaults.items()}
    scope["__set"] = object.__setattr__
    # The source is built from the class's own field names, which are identifiers.
    exec(source, scope)  # noqa: S102
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _init_on_first_use(cls: type, parameters: str, defaults: dict[str, Any]) -> Any:
    """An `__init__` that generates the real one on the first call and puts it in its place.

    Compiling an `__init__` is most of the cost of a class; a class that start-up
    never instantiates (an error, a status) never pays it.
    """

    def __init__(self: Frozen, *args: Any, **kwargs: Any) -> None:
        init = _generated_init(cls, parameters, defaults)
        cls.__init__ = init  # type: ignore[misc]
        init(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _repr_of(fields: tuple[str, ...]) -> Any:
    def __repr__(self: Frozen) -> str:
        shown = ", ".join(f"{field}={getattr(self, field)!r}" for field in fields)
        return f"{type(self).__qualname__}({shown})"

    return __repr__


def _comparison_of(fields: tuple[str, ...]) -> tuple[Any, Any]:
    """`__eq__` and `__hash__` over `fields`, for values of exactly the same class."""
    values = attrgetter(*fields) if fields else (lambda _value: ())

    def __eq__(self: Frozen, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(values(self) == values(other))
        return NotImplemented

    def __hash__(self: Frozen) -> int:
        return hash((type(self).__qualname__, values(self)))

    return __eq__, __hash__


@dataclass_transform(frozen_default=True)
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
        for base in bases:
            inherited += getattr(base, "__frozen_fields__", ())
        own = tuple(
            field
            for field, annotation in namespace.get("__annotations__", {}).items()
            if not str(annotation).startswith(("ClassVar", "Final"))
        )
        defaults = {field: namespace.pop(field) for field in own if field in namespace}
        namespace["__slots__"] = own
        fields = inherited + own
        public = tuple(field for field in fields if not field.startswith("_"))
        namespace["__frozen_fields__"] = fields
        namespace["__match_args__"] = public
        parameters = _init_parameters(name, fields, defaults)
        if "__repr__" not in namespace:
            namespace["__repr__"] = _repr_of(public)
        if "__eq__" not in namespace:
            if eq:
                namespace["__eq__"], namespace["__hash__"] = _comparison_of(public)
            else:
                namespace["__eq__"], namespace["__hash__"] = object.__eq__, object.__hash__
        cls = super().__new__(mcs, name, bases, namespace)
        if "__init__" not in namespace:
            cls.__init__ = _init_on_first_use(cls, parameters, defaults)  # type: ignore[misc]
        return cls


class Frozen(metaclass=_FrozenMeta):
    """Subclass and annotate fields; see the module docstring."""

    __slots__ = ()
    __frozen_fields__: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to {name!r}: a {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete {name!r}: a {type(self).__name__} is frozen")

    def __reduce__(self) -> tuple[Any, ...]:
        values = [getattr(self, field) for field in self.__frozen_fields__]
        proxied = tuple(i for i, value in enumerate(values) if type(value) is MappingProxyType)
        for index in proxied:
            values[index] = dict(values[index])
        return _rebuild, (type(self), tuple(values), proxied)
