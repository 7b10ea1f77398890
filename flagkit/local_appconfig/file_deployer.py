"""Flag documents from files, deployed to the local AppConfig, and again whenever they change.

```
deployer = FileDeployer(local, [WatchedFile("shop", "prod", "flags", Path("flags.json"))])
deployer.check()  # deploys what changed since the last check; call it every second
```

A file is read whole at every check and compared with what was read last. New content
is checked as `flagkit validate` checks it; a document with problems is not deployed:
its problems are reported whole (one line each, with their JSON paths, as `validate`
prints them) and the version deployed before keeps serving. A document that passes is
deployed at once (strategy `flagkit-local-immediate`); while another deployment to the
environment is in progress (a `flagkit push` baking), it waits for that one to end.

A feature-flag profile (`AWS.AppConfig.FeatureFlags`) is made when `feature_flags` says
so, or, when it says nothing, when the file holds the console's stored format; its
versions hold the stored format, which `flagkit appconfig-definition` would write.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from flagkit.document import parse_document
from flagkit.errors import DocumentError, SourceError
from flagkit.local_appconfig.endpoint import LocalAppConfig
from flagkit.local_appconfig.store import FEATURE_FLAGS, FREEFORM, AppConfigApiError
from flagkit.publish.appconfig_format import appconfig_definition, is_definition, load_flag_document
from flagkit.sources.file import FileSource

__all__ = ["CONTENT_TYPES", "FileDeployer", "WatchedFile"]

CONTENT_TYPES: Final = {
    ".json": "application/json",
    ".yaml": "application/x-yaml",
    ".yml": "application/x-yaml",
}
"""The content type a file is deployed with, by its extension (else application/json)."""


@dataclass(frozen=True)
class WatchedFile:
    """A file and the configuration profile (in an application and environment) it feeds.

    `feature_flags`: True for an `AWS.AppConfig.FeatureFlags` profile, False for a freeform
    one, None to decide by the file's first content.
    """

    application: str
    environment: str
    profile: str
    path: Path
    feature_flags: bool | None = None

    @property
    def target(self) -> str:
        """`APP/ENV/PROFILE`."""
        return f"{self.application}/{self.environment}/{self.profile}"


@dataclass
class _State:
    seen: bytes | None = None  # the content read last (None: none yet, or unreadable)
    unreadable: bool = False  # the file could not be read last time (and that was said)
    waiting: bytes | None = None  # valid content to deploy once no deployment is in progress
    said_waiting: bool = False  # that it waits was said


class FileDeployer:
    """Deploys `files` to `local` when they change; reports on `out` and `err`."""

    def __init__(
        self,
        local: LocalAppConfig,
        files: list[WatchedFile],
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self._local = local
        self._files = {watched: _State() for watched in files}
        self._out = out or sys.stdout
        self._err = err or sys.stderr

    def check(self) -> None:
        """Read every file once; deploy what changed and passes the checks."""
        for watched, state in self._files.items():
            try:
                content = FileSource(watched.path).fetch().content
            except SourceError as exc:
                self._feature_flags(watched, None)  # the profile exists, if nothing else
                if not state.unreadable:
                    self._report(f"{watched.path}: error: {exc}", watched)
                state.seen, state.unreadable, state.waiting = None, True, None
                continue
            state.unreadable = False
            if content != state.seen:
                state.seen = content
                state.waiting = self._checked(watched, content)
                state.said_waiting = False
            if state.waiting is not None:
                self._deploy(watched, state, state.waiting)

    def _checked(self, watched: WatchedFile, content: bytes) -> bytes | None:
        """What to deploy for `content` (the stored format for a feature-flag profile), or
        None after reporting its problems."""
        try:
            feature_flags = self._feature_flags(watched, content)  # made, whatever follows
            checked = load_flag_document(content)
            if feature_flags and not is_definition(parse_document(content)):
                content = json.dumps(appconfig_definition(checked.document), indent=2).encode()
        except DocumentError as exc:
            lines = [f"{watched.path}: error: {problem}" for problem in exc.problems]
            self._report("\n".join(lines), watched)
            return None
        for warning in checked.warnings:
            print(f"{watched.path}: warning: {warning}", file=self._err, flush=True)
        return content

    def _feature_flags(self, watched: WatchedFile, content: bytes | None) -> bool:
        """Whether the profile is a feature-flag profile; made, when missing, as `watched`
        says, else as the file's `content` says (the stored format: feature flags)."""
        store = self._local.store
        with store.lock:
            app, _, _ = store.ensure(watched.application, watched.environment)
            known = next((p for p in app.profiles.values() if p.name == watched.profile), None)
            if known is not None:
                return known.type == FEATURE_FLAGS
            wanted = watched.feature_flags
            if wanted is None:
                try:
                    wanted = content is not None and is_definition(parse_document(content))
                except DocumentError:
                    wanted = False
            store.add_profile(app, watched.profile, FEATURE_FLAGS if wanted else FREEFORM)
            return wanted

    def _deploy(self, watched: WatchedFile, state: _State, content: bytes) -> None:
        content_type = CONTENT_TYPES.get(watched.path.suffix.lower(), "application/json")
        try:
            number = self._local.deploy(
                watched.application,
                watched.environment,
                watched.profile,
                content,
                content_type=content_type,
                description=f"flagkit appconfig-local: {watched.path}",
            )
        except AppConfigApiError as exc:
            if exc.code != "ConflictException":
                raise
            if not state.said_waiting:
                print(
                    f"{watched.path}: waiting to deploy to {watched.target}: {exc.message}",
                    file=self._err,
                    flush=True,
                )
                state.said_waiting = True
            return
        state.waiting = None
        print(
            f"{watched.path}: deployed to {watched.target} as version {number}",
            file=self._out,
            flush=True,
        )

    def _report(self, problems: str, watched: WatchedFile) -> None:
        version = self._serving(watched)
        keeps = (
            f"{watched.target} keeps serving version {version}"
            if version is not None
            else f"nothing is deployed to {watched.target}"
        )
        print(f"{problems}\n{watched.path}: not deployed; {keeps}", file=self._err, flush=True)

    def _serving(self, watched: WatchedFile) -> int | None:
        """The version every client of the profile gets now, if any."""
        store = self._local.store
        try:
            app, env, profile = store.resolve(
                watched.application, watched.environment, watched.profile
            )
        except AppConfigApiError:
            return None
        version = store.served(app, env, profile, position=100.0)
        return None if version is None else version.number
