"""`Flags`: the object applications hold. Loads a source, serves answers, swaps documents whole."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from flagkit.compiler import compile_document
from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES, changed_flags, load_document
from flagkit.errors import DocumentError, SourceError
from flagkit.evaluation import evaluate, tenant_parts
from flagkit.flagset import USE_DEFAULT, FlagSet
from flagkit.model import EMPTY_ATTRIBUTES, Evaluation, Tenant
from flagkit.sources.base import Source
from flagkit.sources.file import FileSource
from flagkit.sources.memory import MemorySource

if TYPE_CHECKING:
    import logging

__all__ = ["ChangeCallback", "Flags", "FlagsStatus"]

LOGGER_NAME = "flagkit"

ChangeCallback = Callable[[str | None, str | None, frozenset[str]], None]
"""Called as `callback(old_version, new_version, changed_flag_keys)` after a new document is in."""


@dataclass(frozen=True, slots=True)
class FlagsStatus:
    """How fresh the served document is. `stale_for` counts seconds since the last good load."""

    source: str
    version: str | None
    loaded_at: float
    last_attempt: float
    last_error: str | None
    consecutive_failures: int
    stale_for: float


class Flags:
    """Feature flags for one document source.

    ```
    flags = Flags.from_file("flags.json")
    if flags.enabled("featureA", tenant):
        ...
    ```

    Reading never locks and never raises on data: the current document is one
    immutable `FlagSet`, replaced whole by `refresh()` only after the new
    document passed every check.
    """

    def __init__(self, source: Source) -> None:
        """Load `source` once; a document that fails its checks raises `DocumentError` here."""
        self._source = source
        self._refresh_lock = threading.Lock()
        self._callbacks: list[ChangeCallback] = []
        self._last_error: str | None = None
        self._failures = 0
        self._install(self._load_required())
        self._loaded_at = self._last_attempt = time.time()

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    ) -> Flags:
        """Flags from a local JSON document; `refresh()` re-reads the file."""
        return cls(FileSource(path, max_bytes=max_document_bytes))

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], *, version: str | None = None) -> Flags:
        """Flags from a document already in memory (tests, bootstrapping, generated documents)."""
        return cls(MemorySource(document, version=version))

    # -- reading ----------------------------------------------------------------------------

    def enabled(self, flag: str, tenant: object, default: bool = False) -> bool:
        """Whether `flag` is on for `tenant`; `default` on any error (unknown flag, bad tenant).

        `tenant` is a tenant id, a `Tenant`, a mapping with `id` (or `tenant` or
        `targetingKey`) and optional `tier`, or any object with `.id` and optional `.tier`.
        """
        try:
            decider = self._deciders[flag]
        except KeyError:
            return default
        if tenant.__class__ is str:
            on = decider(tenant, None, EMPTY_ATTRIBUTES).on
        elif tenant.__class__ is Tenant and tenant._problem is None:
            # __post_init__ made `attributes` a mapping and found no problem with the fields.
            on = decider(tenant.id, tenant.tier, tenant.attributes).on  # type: ignore[arg-type]
        else:
            parts = tenant_parts(tenant)
            if isinstance(parts, str):  # A malformed tenant: only the kill switch still answers.
                return default if self._flagset.flags[flag].enabled else False
            on = decider(*parts).on
        return default if on is None else on

    def evaluate(self, flag: str, tenant: object, default: Any = None) -> Evaluation:
        """Everything about one evaluation: value, variant, reason, deciding rule, error."""
        return evaluate(self._flagset, flag, tenant, default)

    def value(self, flag: str, tenant: object, default: Any = None) -> Any:
        """The served value: a variant's value for variant flags, True/False for boolean ones."""
        decider = self._flagset.deciders.get(flag)
        if decider is None:
            return default
        parts = tenant_parts(tenant)
        if isinstance(parts, str):
            return self.evaluate(flag, tenant, default).value
        served = decider(*parts).value
        return default if served is USE_DEFAULT else served

    def enabled_flags(self, tenant: object) -> list[str]:
        """The keys of every flag that is on for `tenant`, in document order."""
        parts = tenant_parts(tenant)
        if isinstance(parts, str):
            return []
        return [key for key, decider in self._flagset.deciders.items() if decider(*parts).on]

    @property
    def flagset(self) -> FlagSet:
        """The compiled document being served now."""
        return self._flagset

    @property
    def version(self) -> str | None:
        """The version label of the document being served."""
        return self._flagset.version

    @property
    def keys(self) -> tuple[str, ...]:
        """Every flag key of the document being served, in document order."""
        return self._flagset.keys

    @property
    def status(self) -> FlagsStatus:
        """Source, version and freshness of the served document, and the last refresh error."""
        now = time.time()
        return FlagsStatus(
            source=self._source.description,
            version=self._flagset.version,
            loaded_at=self._loaded_at,
            last_attempt=self._last_attempt,
            last_error=self._last_error,
            consecutive_failures=self._failures,
            stale_for=(now - self._loaded_at) if self._failures else 0.0,
        )

    # -- changing ---------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Fetch the source again; swap in its document if it changed. True when it did.

        A document that fails its checks raises `DocumentError` (and a source that
        cannot be reached `SourceError`); the document served before stays served.
        """
        with self._refresh_lock:
            self._last_attempt = time.time()
            try:
                snapshot = self._source.fetch()
                if snapshot is None or snapshot.version == self._flagset.version is not None:
                    self._loaded_at = self._last_attempt
                    self._record_success()
                    return False
                new = self._compile(snapshot.content, snapshot.version)
            except Exception as exc:
                self._failures += 1
                self._last_error = str(exc)
                raise
            old = self._flagset
            self._install(new)
            self._loaded_at = self._last_attempt
            self._record_success()
        self._notify(old, new)
        return True

    def on_change(self, callback: ChangeCallback) -> None:
        """Call `callback(old_version, new_version, changed_keys)` after each swap."""
        self._callbacks.append(callback)

    def close(self) -> None:
        """Release the source; file and in-memory sources hold nothing, so this is a no-op."""

    def __enter__(self) -> Flags:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Flags {self._source.description} version={self.version!r} flags={len(self.keys)}>"

    # -- internals --------------------------------------------------------------------------

    def _load_required(self) -> FlagSet:
        snapshot = self._source.fetch()
        if snapshot is None:
            raise SourceError(f"{self._source.description} delivered no document to start from")
        return self._compile(snapshot.content, snapshot.version)

    def _compile(self, content: bytes, version: str | None) -> FlagSet:
        try:
            checked = load_document(content)
        except DocumentError as exc:
            exc.source = self._source.description
            raise
        for warning in checked.warnings:
            _logger().warning(
                "flag document %s (%s): %s", version, self._source.description, warning
            )
        return compile_document(checked, version=version)

    def _install(self, flagset: FlagSet) -> None:
        """Serve `flagset` from now on. Readers use one attribute or the other, never both,
        so every answer comes from one whole document."""
        self._flagset = flagset
        self._deciders = flagset.deciders

    def _record_success(self) -> None:
        self._failures = 0
        self._last_error = None

    def _notify(self, old: FlagSet, new: FlagSet) -> None:
        changed = changed_flags(old.document, new.document)
        for callback in list(self._callbacks):
            try:
                callback(old.version, new.version, changed)
            except Exception:
                _logger().exception("flagkit on_change callback %r failed", callback)


def _logger() -> logging.Logger:
    """The `flagkit` logger, imported on first use: most processes never log from here."""
    import logging

    return logging.getLogger(LOGGER_NAME)
