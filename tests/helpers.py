"""Running the `flagkit` console script as a user runs it, and writing the files it reads."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path


def flagkit(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run this venv's installed `flagkit` command with `args`; never raises on its exit status."""
    command = shutil.which("flagkit", path=str(Path(sys.executable).parent))
    assert command is not None, "the flagkit console script is not installed in this venv"
    return subprocess.run(
        [command, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def write(tmp_path: Path, name: str, content: object) -> Path:
    """`tmp_path / name` holding `content`: a str as is, anything else as JSON."""
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path
