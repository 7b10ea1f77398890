"""An in-process OpenFeature provider: `FlagkitProvider(flags)` answers from a `flagkit.Flags`.

```
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from flagkit import Flags
from flagkit.openfeature import FlagkitProvider

flags = Flags.from_file("flags.json")
api.set_provider_and_wait(FlagkitProvider(flags))
client = api.get_client()
client.get_boolean_value("featureA", False, EvaluationContext("acme", {"tier": "enterprise"}))
```

Needs the optional extra: `pip install 'flagkit-engine[openfeature]'`. `import flagkit` never
imports the OpenFeature SDK; only `import flagkit.openfeature` does.

The context: `targeting_key` is the tenant id; the `tier` attribute is the tenant's
tier; every other attribute is a tenant attribute (what `rules` and `stickiness` read).

The answer is flagkit's `Evaluation`, mapped one to one: value, variant (`"on"`/`"off"`
for a boolean flag), reason and error code (flagkit uses OpenFeature's names). Errors
are reported by returning resolution details with `error_code`, `reason=ERROR` and the
caller's default, never by raising: the 0.10 client hands such details back as they
are (error hooks run), and the flag metadata survives, which an exception would drop.
A value of the wrong type for the method called (`get_boolean_value` on a string
variant; `get_integer_value` on `2.5`; a bool is not an integer) is `TYPE_MISMATCH`
with the caller's default; `get_float_value` accepts an integer and returns it as a
float, since JSON has a single number type. An object value is a deep copy, so a
caller that changes it cannot change the served document. When flagkit itself answers
with the caller's default (a disabled variant flag without `offVariant`), so does the
provider, with flagkit's reason. Flag metadata is `Evaluation.flag_metadata()`, as
the OFREP service sends it: the flag's scalar attributes, `version` (the document
version) and `rule` (the deciding step).

Events, and how status changes are noticed without a thread of the provider's own:
- `PROVIDER_CONFIGURATION_CHANGED`, with `flags_changed` (sorted) and the new
  `version` in its metadata, from a `flags.on_change` callback: the moment a new
  document is in, in the thread that swapped it.
- Health follows `flags.status`: `PROVIDER_READY` while the source answers;
  `PROVIDER_STALE` while refreshes fail, or a rejected document has not been replaced
  (`status.rejected`: errors and "unchanged" answers since do not end it), and the
  last good document (or the backup) keeps serving; `PROVIDER_ERROR` (error code
  `GENERAL`) while flagkit serves the application's `fallback` document because the
  source never delivered one. Each event's message says what is served, which
  version was rejected, and `flags.status.last_error`. The provider hears of every
  refresh attempt through `flags.on_status` (and of every swap through `on_change`)
  and emits only when the health differs from what it last reported (under a lock,
  so each transition is emitted once): a failed refresh is reported the moment it
  fails; a recovery that brings a new document emits `PROVIDER_READY` and then
  `PROVIDER_CONFIGURATION_CHANGED`.
- The initial `PROVIDER_READY` comes from the SDK: openfeature-sdk 0.10 emits it
  itself when `initialize()` returns, so the provider does not emit it a second time.
  A `Flags` that starts from a backup or fallback is reported `STALE` or `ERROR` at
  the first evaluation (the SDK's own READY has to go out first), or at the first
  refresh attempt if that comes sooner.

Ownership: the application made `flags` and owns it. `shutdown()` (called by the SDK
when the provider is replaced, by `api.shutdown()` or `api.clear_providers()`) only
detaches the provider from it: events stop, and `flags` is neither closed nor
changed, so it keeps serving whatever else uses it; the provider's callbacks are
unsubscribed (and hold the provider only weakly until then). A provider set again
after `shutdown()` re-attaches.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

try:
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.event import ProviderEvent, ProviderEventDetails
    from openfeature.exception import ErrorCode as OpenFeatureErrorCode
    from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType
    from openfeature.flag_evaluation import Reason as OpenFeatureReason
    from openfeature.provider import AbstractProvider, Metadata
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "flagkit.openfeature needs the OpenFeature SDK: pip install 'flagkit-engine[openfeature]'"
    ) from exc

from flagkit.client import Flags, FlagsStatus
from flagkit.model import ErrorCode, Reason, Tenant, tenant_from_context

__all__ = ["PROVIDER_NAME", "FlagkitProvider"]

PROVIDER_NAME = "flagkit"
"""The provider's name in `get_metadata()` and in every event's details."""

ObjectValue: TypeAlias = Sequence[FlagValueType] | Mapping[str, FlagValueType]
"""What `resolve_object_details` takes as a default and serves."""

_REASONS: Mapping[Reason, OpenFeatureReason] = {
    reason: OpenFeatureReason(reason.value) for reason in Reason
}
_ERROR_CODES: Mapping[ErrorCode, OpenFeatureErrorCode] = {
    code: OpenFeatureErrorCode(code.value) for code in ErrorCode
}
_FALLBACK_ORIGIN = "fallback:"


class _Mismatch:
    """The result of a conversion that found a value of the wrong type."""


_MISMATCH = _Mismatch()


def _as_bool(value: object) -> bool | _Mismatch:
    return value if isinstance(value, bool) else _MISMATCH


def _as_str(value: object) -> str | _Mismatch:
    return value if isinstance(value, str) else _MISMATCH


def _as_int(value: object) -> int | _Mismatch:
    return value if isinstance(value, int) and not isinstance(value, bool) else _MISMATCH


def _as_float(value: object) -> float | _Mismatch:
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return _MISMATCH


def _as_object(value: object) -> ObjectValue | _Mismatch:
    if isinstance(value, dict | list):
        return copy.deepcopy(value)
    return _MISMATCH


class FlagkitProvider(AbstractProvider):
    """An OpenFeature provider that evaluates in process with `flags`; see the module docs.

    `flags` stays the application's: the provider never closes or refreshes it.
    """

    def __init__(self, flags: Flags) -> None:
        """Serve answers from `flags`; events start when the SDK initializes the provider."""
        super().__init__()
        self._flags = flags
        self._lock = threading.RLock()
        self._active = False
        self._unsubscribe: list[Callable[[], None]] = []
        self._initial_check = False
        self._reported: ProviderEvent | None = None

    @property
    def flags(self) -> Flags:
        """The `Flags` this provider answers from."""
        return self._flags

    # -- lifecycle ------------------------------------------------------------------------------

    def get_metadata(self) -> Metadata:
        """`Metadata(name="flagkit")`."""
        return Metadata(name=PROVIDER_NAME)

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        """Start following `flags`: its changes, and its health (see the module docs)."""
        with self._lock:
            if not self._unsubscribe:
                self._unsubscribe = [
                    self._flags.on_change(_change_callback(self)),
                    self._flags.on_status(_status_callback(self)),
                ]
            self._active = True
            # Not READY from the start (a backup, a fallback): say so after the SDK's READY.
            self._initial_check = _health_of(self._flags.status) is not ProviderEvent.PROVIDER_READY
            # The SDK emits PROVIDER_READY when this returns: that is our starting point.
            self._reported = ProviderEvent.PROVIDER_READY

    def shutdown(self) -> None:
        """Stop emitting events; `flags` is left open and unchanged (the application owns it)."""
        with self._lock:
            self._active = False
            for unsubscribe in self._unsubscribe:
                unsubscribe()
            self._unsubscribe = []
            self._reported = None

    # -- resolving ------------------------------------------------------------------------------

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """Resolve a boolean flag (or a variant flag whose variants are booleans)."""
        return self._resolve(flag_key, default_value, evaluation_context, _as_bool, "a boolean")

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        """Resolve a variant flag whose served value is a string."""
        return self._resolve(flag_key, default_value, evaluation_context, _as_str, "a string")

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[int]:
        """Resolve a variant flag whose served value is an integer (a bool is not one)."""
        return self._resolve(flag_key, default_value, evaluation_context, _as_int, "an integer")

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """Resolve a variant flag whose served value is a number; an integer comes back a float."""
        return self._resolve(flag_key, default_value, evaluation_context, _as_float, "a number")

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: ObjectValue,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[ObjectValue]:
        """Resolve a variant flag whose served value is a JSON object or array (a copy)."""
        return self._resolve(
            flag_key, default_value, evaluation_context, _as_object, "an object or array"
        )

    def _resolve(
        self,
        flag_key: str,
        default_value: Any,
        context: EvaluationContext | None,
        convert: Callable[[object], Any],
        wanted: str,
    ) -> FlagResolutionDetails[Any]:
        evaluation = self._flags.evaluate(flag_key, _tenant_of(context), default_value)
        if self._initial_check:
            self._initial_check = False
            self._check_health()
        metadata = evaluation.flag_metadata()
        if evaluation.error_code is not None:
            return FlagResolutionDetails(
                value=default_value,
                error_code=_ERROR_CODES[evaluation.error_code],
                error_message=evaluation.error_message,
                reason=OpenFeatureReason.ERROR,
                flag_metadata=metadata,
            )
        if evaluation.variant is None:  # flagkit served the caller's default
            return FlagResolutionDetails(
                value=default_value,
                reason=_REASONS[evaluation.reason],
                flag_metadata=metadata,
            )
        value = convert(evaluation.value)
        if value is _MISMATCH:
            return FlagResolutionDetails(
                value=default_value,
                error_code=OpenFeatureErrorCode.TYPE_MISMATCH,
                error_message=(
                    f"flag {flag_key!r} served variant {evaluation.variant!r}, "
                    f"a {type(evaluation.value).__name__}, not {wanted}"
                ),
                reason=OpenFeatureReason.ERROR,
                flag_metadata=metadata,
            )
        return FlagResolutionDetails(
            value=value,
            reason=_REASONS[evaluation.reason],
            variant=evaluation.variant,
            flag_metadata=metadata,
        )

    # -- events ---------------------------------------------------------------------------------

    def _check_health(self) -> None:
        """Emit READY, STALE or ERROR when `flags.status` no longer says what we last emitted."""
        if _health_of(self._flags.status) is self._reported:
            return
        with self._lock:
            if not self._active:
                return
            status = self._flags.status
            health = _health_of(status)
            if health is self._reported:
                return  # Another thread emitted it first.
            self._reported = health
            if health is ProviderEvent.PROVIDER_READY:
                self.emit_provider_ready(ProviderEventDetails(message=_describe(status)))
            elif health is ProviderEvent.PROVIDER_STALE:
                self.emit_provider_stale(ProviderEventDetails(message=_describe(status)))
            else:
                self.emit_provider_error(
                    ProviderEventDetails(
                        message=_describe(status), error_code=OpenFeatureErrorCode.GENERAL
                    )
                )

    def _document_changed(
        self, old_version: str | None, new_version: str | None, changed: frozenset[str]
    ) -> None:
        with self._lock:
            if not self._active:
                return
            self._check_health()  # A recovery is READY before it is a change.
            self.emit_provider_configuration_changed(
                ProviderEventDetails(
                    flags_changed=sorted(changed),
                    message=f"flag document {old_version} -> {new_version}",
                    metadata={} if new_version is None else {"version": new_version},
                )
            )


def _change_callback(
    provider: FlagkitProvider,
) -> Callable[[str | None, str | None, frozenset[str]], None]:
    """An `on_change` callback that holds `provider` weakly: `flags` may outlive it."""
    ref = weakref.ref(provider)

    def document_changed(old: str | None, new: str | None, changed: frozenset[str]) -> None:
        alive = ref()
        if alive is not None:
            alive._document_changed(old, new, changed)

    return document_changed


def _status_callback(provider: FlagkitProvider) -> Callable[[FlagsStatus], None]:
    """An `on_status` callback that holds `provider` weakly."""
    ref = weakref.ref(provider)

    def status_changed(status: FlagsStatus) -> None:
        alive = ref()
        if alive is not None and alive._active:
            alive._initial_check = False
            alive._check_health()

    return status_changed


def _tenant_of(context: EvaluationContext | None) -> Tenant:
    """The tenant an evaluation context describes: targeting key, `tier`, the rest attributes."""
    if context is None:
        return Tenant(None)
    return tenant_from_context(context.targeting_key, context.attributes)


def _health_of(status: FlagsStatus) -> ProviderEvent:
    """READY, STALE (serving the last good document) or ERROR (serving the fallback)."""
    if status.origin.startswith(_FALLBACK_ORIGIN):
        return ProviderEvent.PROVIDER_ERROR
    if status.consecutive_failures or status.rejected:
        return ProviderEvent.PROVIDER_STALE
    return ProviderEvent.PROVIDER_READY


def _describe(status: FlagsStatus) -> str:
    """An event message: what is served, a rejected version, and the last error if any."""
    message = f"serving version {status.version} from {status.origin}"
    if status.rejected:
        message += f"; version {status.rejected_version} was rejected"
    if status.last_error is None:
        return message
    return f"{message}; last refresh of {status.source} failed: {status.last_error}"
