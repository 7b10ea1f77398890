"""Run a command as if some distributions were not installed: for the no-extra tests.

```
python tests/without_modules.py fastapi,uvicorn flagkit serve --source flags.json
python tests/without_modules.py fastapi,uvicorn -m service --source flags.json
```

The first argument lists top-level modules to refuse: a finder placed first on
`sys.meta_path` raises ModuleNotFoundError for them (and their submodules), exactly
as Python does for a module that is not installed. The rest is the command: an
installed console script (found through its entry point, as the script itself does)
or `-m MODULE`. Run by path, in a fresh interpreter, before anything imports them.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import runpy
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from types import ModuleType


class RefuseModules(importlib.abc.MetaPathFinder):
    """Finds none of `names` (nor their submodules): importing one fails as if not installed."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def main() -> None:
    """Refuse `sys.argv[1]`'s modules, then run the rest of `sys.argv` as the command."""
    refused, *command = sys.argv[1:]
    sys.meta_path.insert(0, RefuseModules(frozenset(refused.split(","))))
    if command[0] == "-m":
        sys.argv = command[1:]
        runpy.run_module(command[1], run_name="__main__", alter_sys=True)
        return
    (script,) = entry_points(group="console_scripts", name=command[0])
    sys.argv = command
    script.load()()


if __name__ == "__main__":
    main()
