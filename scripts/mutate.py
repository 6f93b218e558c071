"""The work behind scripts/mutate: one mutmut run per module, on a copy of the tree.

mutmut reads its settings from pyproject.toml in the directory it runs in and mutates every
file it is allowed to, so each module gets its own copy under .mutants/<module>/ whose
pyproject.toml names that module and the tests that cover it ([tool.modelbridge.mutate]).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutants"
TREES = ("bot", "storage", "adapters", "tests")
MUTMUT = Path(sys.executable).parent / "mutmut"
PER_RUN = ("only_mutate", "pytest_add_cli_args_test_selection")


def module_path(name: str) -> str:
    """`bot.media` or `bot/media.py` as a path relative to the repository."""
    path = name if name.endswith(".py") else name.replace(".", "/") + ".py"
    if not (ROOT / path).is_file():
        raise SystemExit(f"no such module: {name}")
    return path


def covering_tests(path: str, mapping: dict[str, list[str]]) -> list[str]:
    """The tests listed for `path`, else the test files that import it."""
    if path in mapping:
        return mapping[path]
    dotted = path.removesuffix(".py").replace("/", ".")
    package, _, name = dotted.rpartition(".")
    pattern = re.compile(rf"(import {re.escape(dotted)}\b|from {re.escape(dotted)} import|"
                         rf"from {re.escape(package)} import .*\b{re.escape(name)}\b)")
    found = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py")
                   if pattern.search(p.read_text(encoding="utf-8")))
    if not found:
        raise SystemExit(f"no tests import {dotted}: list them in [tool.modelbridge.mutate]")
    return found


def prepare(path: str, tests: list[str]) -> Path:
    """A fresh copy of the tree whose mutmut settings name this module and its tests."""
    work = WORK / path.removesuffix(".py").replace("/", "_")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for tree in TREES:
        shutil.copytree(ROOT / tree, work / tree,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    settings = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    values = {"only_mutate": [path], "pytest_add_cli_args_test_selection": tests}
    for key in PER_RUN:
        line = re.compile(rf"^{key} = \[\].*$", re.MULTILINE)
        if not line.search(settings):
            raise SystemExit(f"pyproject.toml [tool.mutmut] lacks the line '{key} = []'")
        settings = line.sub(f"{key} = {json.dumps(values[key])}", settings)
    (work / "pyproject.toml").write_text(settings, encoding="utf-8")
    return work


def mutmut(work: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(work)}
    return subprocess.run([str(MUTMUT), *args], cwd=work, env=env, text=True, check=False,
                          capture_output=capture)


def report(path: str, work: Path) -> float | None:
    """Print the module's score and write each survivor's diff; returns the score."""
    mutmut(work, "export-cicd-stats", capture=True)
    stats_file = work / "mutants" / "mutmut-cicd-stats.json"
    if not stats_file.is_file():
        print(f"{path}: no results (see the output above)")
        return None
    stats = json.loads(stats_file.read_text())
    tried = stats["total"] - stats["skipped"]
    caught = stats["killed"] + stats["timeout"]
    score = 100.0 * caught / tried if tried else 0.0
    listing = mutmut(work, "results", capture=True).stdout
    survivors = [line.split(":")[0].strip() for line in listing.splitlines()
                 if line.strip().endswith(("survived", "no tests", "suspicious"))]
    diffs = [mutmut(work, "show", name, capture=True).stdout for name in survivors]
    (work / "survivors.txt").write_text("\n".join(diffs), encoding="utf-8")
    print(f"{path}: {score:.1f} % ({caught} of {tried} mutants caught: {stats['killed']} killed, "
          f"{stats['timeout']} timed out; {stats['survived']} survived, {stats['no_tests']} "
          f"untested, {stats['suspicious']} suspicious); survivors in "
          f"{(work / 'survivors.txt').relative_to(ROOT)}", flush=True)
    return score


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/mutate", description=__doc__)
    parser.add_argument("modules", nargs="+", metavar="MODULE",
                        help="e.g. bot/media.py or bot.media")
    parser.add_argument("--min", type=float, default=None, metavar="PERCENT",
                        help="exit 1 when a module scores below this")
    args = parser.parse_args()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = config.get("tool", {}).get("modelbridge", {}).get("mutate", {})
    jobs = os.environ.get("MUTATE_JOBS", "1")
    failed = False
    for name in args.modules:
        path = module_path(name)
        tests = covering_tests(path, mapping)
        print(f"== {path} against {' '.join(tests)}", flush=True)
        work = prepare(path, tests)
        mutmut(work, "run", "--max-children", jobs)
        score = report(path, work)
        failed |= score is None or (args.min is not None and score < args.min)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
