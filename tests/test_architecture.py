"""The library never depends on the service: flagkit/ imports nothing from service/.

The service builds on flagkit (and adds `flagkit serve` through an entry point); the
other way round would make `import flagkit` drag in FastAPI, or fail without it.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import EXAMPLES, REPO
from tests.helpers import run_command

FORBIDDEN = "service"
_MODULE_NAME = re.compile(rf"^{FORBIDDEN}(\.\w+)*(:\w+)?$")
"""A string naming a service module, or an object in one as uvicorn and entry points write it."""


def service_references(source: str, filename: str = "<source>") -> Iterator[str]:
    """`line: what` for every import of the service package in `source`, and every
    string naming one of its modules (`importlib.import_module("service.app")`,
    `"service.app:create_app"`)."""
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _MODULE_NAME.match(node.value):
                yield f"{node.lineno}: names {node.value!r}"
            continue
        else:
            continue
        for name in names:
            if name.partition(".")[0] == FORBIDDEN:
                yield f"{node.lineno}: imports {name}"


def test_no_flagkit_module_refers_to_the_service() -> None:
    modules = sorted((REPO / "flagkit").rglob("*.py"))
    assert len(modules) > 20, "flagkit's modules were not found"
    found = [
        f"{path.relative_to(REPO)}:{reference}"
        for path in modules
        for reference in service_references(path.read_text(encoding="utf-8"), str(path))
    ]
    assert found == []


def test_the_check_sees_every_way_of_naming_the_service() -> None:
    source = (
        "import service.app\n"
        "import os, service\n"
        "from service.settings import Settings\n"
        "from service import command\n"
        "importlib.import_module('service.source')\n"
        "uvicorn.run('service.app:create_app')\n"
        "__import__('service')\n"
        "from .service import fine  # flagkit.service would be flagkit's own\n"
        "import services, myservice\n"
        "text = 'the service answers'\n"
    )
    assert list(service_references(source)) == [
        "1: imports service.app",
        "2: imports service",
        "3: imports service.settings",
        "4: imports service",
        "5: names 'service.source'",
        "6: names 'service.app:create_app'",
        "7: names 'service'",
    ]


def loaded_modules(script: str) -> str:
    """What `script` prints, run by a fresh interpreter away from the repository."""
    finished = run_command(
        [sys.executable, "-P", "-c", script],
        cwd=Path(sys.executable).parent,  # not the repository: `service` only as installed
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def test_importing_the_cli_loads_no_service_module() -> None:
    script = (
        "import sys, flagkit.cli\n"
        "print(sorted(name for name in sys.modules if name.partition('.')[0] == 'service'))"
    )
    assert loaded_modules(script) == "[]\n"


def test_the_cli_loads_only_the_serve_command_module_until_serve_runs() -> None:
    """`flagkit validate` loads `service.command` (the `serve` entry point), not the app."""
    script = (
        "import contextlib, io, sys, flagkit.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert flagkit.cli.main(['validate', {str(EXAMPLES / 'flags.json')!r}]) == 0\n"
        "print(sorted(name for name in sys.modules\n"
        "             if name.partition('.')[0] in ('service', 'fastapi', 'uvicorn')))"
    )
    assert loaded_modules(script) == "['service', 'service.command']\n"
