"""The README shows what the code does: its bucketing vectors, its curl and its client."""

from __future__ import annotations

import itertools
import json
import shlex
import shutil

from tests.conftest import REPO, TEST_DATA
from tests.helpers import run_command, run_python
from tests.service_server import serve_cli

START, END = "<!-- vectors:start -->", "<!-- vectors:end -->"


def vectors_table() -> str:
    """The Markdown table the README prints between the vectors markers."""
    vectors = json.loads((TEST_DATA / "bucketing_vectors.json").read_text(encoding="utf-8"))
    rows = [
        "| salt | key | h (unsigned) | rank | percentage | on |",
        "|---|---|---:|---:|---:|---|",
    ]
    for vector in vectors["vectors"]:
        salt = vector["salt"] or "(empty)"
        rows.append(
            f"| `{salt}` | `{vector['key']}` | {vector['hash']} | {vector['rank']} "
            f"| {vector['percentage']} | {'on' if vector['on'] else 'off'} |"
        )
    return "\n".join(rows)


def test_readme_prints_the_golden_vectors() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    printed = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert printed == vectors_table(), (
        "README.md's vector table differs from tests/data/bucketing_vectors.json; regenerate "
        "it with: python -c 'from tests.test_readme import vectors_table; print(vectors_table())'"
    )


def test_readme_shows_the_two_setup_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make run" in quick_start
    assert "make test" in quick_start


def _fenced_blocks(section: str, language: str) -> list[str]:
    """The bodies of the ```language blocks in `section`, in order."""
    return [
        block.split("\n", 1)[1].rsplit("```", 1)[0] if block.startswith(language) else ""
        for block in section.split("```")[1::2]
        if block.startswith(language + "\n")
    ]


def _section(title: str) -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return readme.split(title, 1)[1].split("\n## ", 1)[0]


def test_readme_curl_answers_what_the_readme_says() -> None:
    """The quick start's curl, sent to `flagkit serve` on the example document, as `make run`."""
    quick_start = _section("## Quick start")
    [curl] = _fenced_blocks(quick_start, "sh")[1:]
    [expected] = _fenced_blocks(quick_start, "json")
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
    [client_code] = _fenced_blocks(_section("## The HTTP service"), "python")[:1]
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
