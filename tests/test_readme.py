"""The README shows what the code does: its curl, its clients and its Python samples."""

from __future__ import annotations

import ast
import inspect
import io
import itertools
import json
import logging
import shlex
import shutil
import tokenize
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from openfeature import api

from flagkit import Flags
from tests.conftest import EXAMPLES, REPO
from tests.helpers import run_command, run_python
from tests.markdown_text import fenced_blocks, section
from tests.service_server import serve_cli

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_shows_the_two_setup_commands() -> None:
    quick_start = section(README, "## Quick start")
    assert "make run" in quick_start
    assert "make test" in quick_start


def test_readme_curl_answers_what_the_readme_says() -> None:
    """The quick start's curl, sent to `flagkit serve` on the example document, as `make run`."""
    quick_start = section(README, "## Quick start")
    [curl] = fenced_blocks(quick_start, "sh")[1:]
    [expected] = fenced_blocks(quick_start, "json")
    words = shlex.split(curl.replace("\\\n", " "))
    assert words[:4] == ["curl", "-s", "-X", "POST"]
    url = words[4]
    options = list(itertools.pairwise(words))
    headers = dict(value.split(": ", 1) for option, value in options if option == "-H")
    [body] = [value for option, value in options if option == "-d"]
    with serve_cli("--source", str(REPO / "examples" / "flags.json")) as server:
        port_url = url.replace("http://127.0.0.1:8000", server.base_url)
        assert port_url != url, "the README's curl must target make run's 127.0.0.1:8000"
        with server.client() as client:
            response = client.post(port_url, headers=headers, content=body)
        assert response.status_code == 200
        assert response.json() == json.loads(expected)
        if shutil.which("curl"):
            literal = [port_url if word == url else word for word in words]
            printed = run_command(literal)
            assert printed.returncode == 0, printed.stderr
            assert json.loads(printed.stdout) == json.loads(expected)


def test_readme_openfeature_client_answers_as_its_comments_say() -> None:
    """The 10-line OFREP client, run as a script against `flagkit serve`."""
    [client_code] = fenced_blocks(section(README, "## The HTTP service"), "python")[:1]
    lines = [line for line in client_code.splitlines() if line.strip()]
    assert len(client_code.strip().splitlines()) <= 10
    promised = [line.split("  # ", 1)[1] for line in lines if line.startswith("print(")]
    assert promised, "the client prints what it got, with the expected output as a comment"
    with serve_cli("--source", str(REPO / "examples" / "flags.json")) as server:
        script = client_code.replace("http://127.0.0.1:8000", server.base_url)
        assert script != client_code
        result = run_python(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == promised


# -- the Python samples ---------------------------------------------------------------------


def _promise(comment: str) -> tuple[bool, Any]:
    """What a sample's comment promises: the Python literal it starts with, if any.

    `# "eu-beta": the step that decided` promises "eu-beta"; `# a tenant id` promises
    nothing. A list ending in `...` promises the list's first items.
    """
    text = comment.lstrip("#").strip()
    for end in range(len(text), 0, -1):
        rest = text[end:].lstrip()
        if rest and rest[0] not in ":,":
            continue
        try:
            return True, ast.literal_eval(text[:end])
        except (ValueError, SyntaxError, TypeError):
            continue
    return False, None


def _keeps_promise(value: Any, promised: Any) -> bool:
    if isinstance(promised, list) and promised and promised[-1] is Ellipsis:
        return list(value)[: len(promised) - 1] == promised[:-1]
    return bool(value == promised)


def run_sample(code: str, namespace: dict[str, Any]) -> int:
    """Run `code` statement by statement; check each expression against its comment's promise.

    Returns how many promises were checked.
    """
    comments = {
        token.start[0]: token.string
        for token in tokenize.generate_tokens(io.StringIO(code).readline)
        if token.type == tokenize.COMMENT
    }
    checked = 0
    for statement in ast.parse(code).body:
        promised = _promise(comments.get(statement.end_lineno or 0, ""))
        if isinstance(statement, ast.Expr):
            expression = compile(ast.Expression(statement.value), "<README>", "eval")
            value = eval(expression, namespace)  # noqa: S307 (the README's own sample)
            if promised[0]:
                source = ast.get_source_segment(code, statement)
                assert _keeps_promise(value, promised[1]), f"{source} is {value!r}"
                checked += 1
        else:
            code_object = compile(ast.Module([statement], []), "<README>", "exec")
            exec(code_object, namespace)  # noqa: S102 (the README's own sample)
    return checked


@pytest.fixture
def in_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory whose `flags.json` is the example document."""
    (tmp_path / "flags.json").write_bytes((EXAMPLES / "flags.json").read_bytes())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _stand_ins() -> dict[str, Any]:
    """The names the samples leave to the reader's application."""
    account = SimpleNamespace(id="acme", tier="enterprise")
    return {
        "tenant": "acme",
        "request": SimpleNamespace(user=SimpleNamespace(account=account)),
        "log": logging.getLogger("readme"),
        "metrics": SimpleNamespace(gauge=lambda name, value: None),
    }


def test_readme_opening_sample_runs(in_a_project: Path) -> None:
    [opening] = fenced_blocks(README.split("\n## ", 1)[0], "python")
    namespace = _stand_ins()
    run_sample(opening, namespace)
    assert isinstance(namespace["flags"], Flags)


def test_readme_python_api_sample_answers_as_its_comments_say(in_a_project: Path) -> None:
    [sample] = fenced_blocks(section(README, "## The Python API"), "python")
    namespace = _stand_ins()
    try:
        assert run_sample(sample, namespace) == 5
    finally:
        namespace["flags"].close()


def test_readme_memory_source_sample_answers_as_its_comments_say() -> None:
    sources = section(README, "## Sources")
    [sample] = fenced_blocks(sources.split("### A document in memory\n", 1)[1], "python")[:1]
    assert "from flagkit.sources import MemorySource" in sample
    assert run_sample(sample, {}) == 4


def test_readme_openfeature_in_process_sample_answers_as_its_comments_say(
    in_a_project: Path,
) -> None:
    [sample] = fenced_blocks(section(README, "## OpenFeature (in-process)"), "python")
    namespace: dict[str, Any] = {}
    try:
        assert run_sample(sample, namespace) == 1
    finally:
        api.shutdown()
        namespace["flags"].close()


@pytest.mark.parametrize("title", ["### AppConfig Data API", "### AppConfig Agent"])
def test_readme_appconfig_samples_call_flagkit_as_it_is(title: str) -> None:
    """They need AWS to run; their arguments, at least, are ones the constructors take."""
    [sample] = fenced_blocks(section(README, "## Sources").split(title + "\n", 1)[1], "python")[:1]
    [statement] = ast.parse(sample).body
    assert isinstance(statement, ast.Assign)
    call = statement.value
    assert isinstance(call, ast.Call)
    assert isinstance(call.func, ast.Attribute)
    constructor = getattr(Flags, call.func.attr)
    arguments = [ast.literal_eval(argument) for argument in call.args]
    keywords = {str(keyword.arg): ast.literal_eval(keyword.value) for keyword in call.keywords}
    inspect.signature(constructor).bind(*arguments, **keywords)
