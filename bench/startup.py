"""Start-up: import + build a client from a 50-flag document, flagkit against five peers.

    .venv/bin/python bench/startup.py [--rounds 21] [--seed 0] [--with-stdlib-estimate]

(`make bench-startup` installs the peers, the `bench` extra, and runs this.)

Each case is a fresh `python -c` in this interpreter's environment that imports a library
and builds a client from a local document (bench/startup_cases.py): flagkit's
`Flags.from_file` on the 50-flag document of bench/hot_path.py, each peer offline on the
same flags in its own format. `python -c pass` (the empty interpreter) runs too. A round
runs every case once, in a shuffled order. What is read is each case's time over the
empty interpreter of its round, and the headline is the median of the rounds'
(flagkit - empty) / (fastest peer - empty), the fastest peer being the one with the lowest
median wall time; the target is <= 0.5. A peer that is not installed is skipped.

Before timing, each case runs once untimed with every socket connection refused (a peer
that tries the network is reported and left out), and checks its client: every flag on
for an allow-listed tenant, about 25 % of other tenants in the rollout. flagkit's check
also lists which of boto3, botocore, jsonschema, fastapi and pydantic it loaded (none, it
should be). That run writes the bytecode of whatever each case imports; timed runs write
none. Exits 1 when the verdict is FAIL.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hot_path import ALLOWED, FLAG_COUNT, PERCENTAGE, TARGET
from startup_cases import Case, all_cases, flag_keys

TARGET_RATIO = 0.5
HEAVY_MODULES = ("boto3", "botocore", "jsonschema", "fastapi", "pydantic")
EMPTY = "python -c pass"
TIMEOUT_SECONDS = 60
SAMPLE_TENANTS = 2_000

NETWORK_GUARD = """\
import sys
_network = []
def _refuse_network(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto"):
        _network.append(f"{event} {args!r}"[:200])
        raise ConnectionRefusedError(f"the start-up benchmark allows no network ({event})")
sys.addaudithook(_refuse_network)
"""

CHECK = """
_loaded = sorted(name for name in {heavy!r} if name in sys.modules)
def _answer(key, tenant):
    return bool({answer})
_allowed = all(_answer(key, {allowed!r}) for key in {keys!r})
_share = sum(_answer({target!r}, f"tenant-{{i}}") for i in range({sample})) / {sample}
print("STARTUP-CHECK " + __import__("json").dumps(
    {{"allowed": _allowed, "share": _share, "loaded": _loaded, "network": _network}}
))
"""


@dataclass(frozen=True)
class Checked:
    """What the untimed run of a case found; `problem` is None when the case can be timed."""

    problem: str | None
    loaded: list[str]


def command(code: str, document: Path, scratch: Path) -> list[str]:
    """A fresh interpreter running `code` with the document and scratch folder as arguments."""
    return [sys.executable, "-c", code, str(document), str(scratch)]


def check(case: Case, document: Path, scratch: Path) -> Checked:
    """Run the case once with the network refused and check the client it built."""
    code = (
        NETWORK_GUARD
        + case.code
        + CHECK.format(
            heavy=HEAVY_MODULES,
            answer=case.answer,
            allowed=ALLOWED[7],
            keys=flag_keys(),
            target=TARGET,
            sample=SAMPLE_TENANTS,
        )
    )
    # Bytecode on for this run only, so every case's imports are compiled once before timing.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    try:
        done = subprocess.run(
            command(code, document, scratch),
            capture_output=True,
            text=True,
            env=env,
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return Checked(f"did not finish in {TIMEOUT_SECONDS} s", [])
    lines = [line for line in done.stdout.splitlines() if line.startswith("STARTUP-CHECK ")]
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        if "allows no network" in done.stderr:
            return Checked(f"tried the network and was refused: {last}", [])
        return Checked(f"failed (exit {done.returncode}): {last}", [])
    found = json.loads(lines[-1].removeprefix("STARTUP-CHECK "))
    if found["network"]:
        return Checked(f"tried the network: {found['network'][0]}", found["loaded"])
    if not found["allowed"]:
        return Checked("an allow-listed tenant was off: the client did not load the flags", [])
    if abs(found["share"] - PERCENTAGE / 100) > 0.05:
        return Checked(f"rollout share {found['share']:.1%}, expected about {PERCENTAGE} %", [])
    return Checked(None, found["loaded"])


def time_rounds(commands: dict[str, list[str]], rounds: int, seed: int) -> dict[str, list[float]]:
    """Wall ms of every command, one sample per round, each round in a new shuffled order."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    shuffle = random.Random(seed).shuffle
    samples: dict[str, list[float]] = {name: [] for name in commands}
    order = list(commands)
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            start = time.perf_counter()
            done = subprocess.run(
                commands[name], capture_output=True, env=env, timeout=TIMEOUT_SECONDS
            )
            elapsed = (time.perf_counter() - start) * 1000
            if done.returncode != 0:
                sys.exit(f"{name} failed in a timed run:\n{done.stderr.decode()}")
            samples[name].append(elapsed)
    return samples


def paired_median(mine: list[float], theirs: list[float], empty: list[float]) -> float:
    """Median over rounds of (mine - empty) / (theirs - empty)."""
    return statistics.median((m - e) / (t - e) for m, t, e in zip(mine, theirs, empty, strict=True))


def report(
    samples: dict[str, list[float]],
    cases: list[Case],
    skipped: list[str],
    loaded: list[str],
) -> bool:
    """Print the table and the verdicts; True when flagkit met its targets."""
    empty = samples[EMPTY]
    medians = {name: statistics.median(values) for name, values in samples.items()}
    over = {
        name: statistics.median(v - e for v, e in zip(values, empty, strict=True))
        for name, values in samples.items()
    }
    print(f"{'case':34} {'wall ms':>8} {'over empty ms':>14}")
    print(f"{EMPTY:34} {medians[EMPTY]:8.1f} {'':>14}")
    for case in cases:
        if case.name in samples:
            print(f"{case.name:34} {medians[case.name]:8.1f} {over[case.name]:14.1f}")
    for line in skipped:
        print(line)

    ok = not loaded
    print(
        "\nflagkit after import + from_file: "
        + (f"LOADED {', '.join(loaded)}" if loaded else f"none of {', '.join(HEAVY_MODULES)}")
        + " in sys.modules"
    )
    print(f"flagkit over the empty interpreter: {over['flagkit']:.1f} ms (for the record)")
    peers = [case.name for case in cases if case.peer and case.name in samples]
    if not peers:
        print("no peer could be timed: no ratio (`make bench-startup` installs them)")
        return ok
    fastest = min(peers, key=lambda name: medians[name])
    print(f"fastest peer: {fastest} ({medians[fastest]:.1f} ms wall, median)")
    for case in cases:
        if case.peer or case.name not in samples:
            continue
        mine = samples[case.name]
        ratio = paired_median(mine, samples[fastest], empty)
        wall = statistics.median(m / t for m, t in zip(mine, samples[fastest], strict=True))
        print(
            f"{case.name} / {fastest}: {ratio:.2f} over the empty interpreter "
            f"(median of {len(empty)} rounds' ratios), {wall:.2f} in wall time"
        )
        if case.name == "flagkit":
            passed = ratio <= TARGET_RATIO
            ok = ok and passed
            print(
                f"{'PASS' if passed else 'FAIL'}: {ratio:.2f} {'<=' if passed else '>'} "
                f"{TARGET_RATIO} x the fastest peer"
            )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--seed", type=int, default=0, help="seed of the rounds' orders")
    parser.add_argument(
        "--with-stdlib-estimate",
        action="store_true",
        help="also time flagkit after `import typing, dataclasses, logging` (an estimate case)",
    )
    args = parser.parse_args()

    cases = all_cases(with_stdlib_estimate=args.with_stdlib_estimate)
    skipped: list[str] = []
    loaded: list[str] = []
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        commands = {EMPTY: [sys.executable, "-c", "pass"]}
        for case in cases:
            if case.module is not None and importlib.util.find_spec(case.module) is None:
                skipped.append(f"{case.name:34} skipped: not installed ({case.distribution})")
                continue
            document = scratch / case.file_name
            document.write_text(json.dumps(case.document), encoding="utf-8")
            checked = check(case, document, scratch)
            if checked.problem is not None:
                if not case.peer:
                    sys.exit(f"{case.name} {checked.problem}")
                skipped.append(f"{case.name:34} left out: {checked.problem}")
                continue
            if case.name == "flagkit":
                loaded = checked.loaded
            commands[case.name] = command(case.code, document, scratch)
        print(
            f"Start-up: import + a client from a {FLAG_COUNT}-flag document in a fresh "
            f"interpreter; {args.rounds} rounds, each case once per round in a shuffled order; "
            f"Python {platform.python_version()}\n"
        )
        samples = time_rounds(commands, args.rounds, args.seed)
    sys.exit(0 if report(samples, cases, skipped, loaded) else 1)


if __name__ == "__main__":
    main()
