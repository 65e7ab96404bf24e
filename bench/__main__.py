"""Run every benchmark module of bench/ in turn: ``python -m bench [--quick] [name ...]``.

``--quick`` shrinks the sizes for a smoke run; names (``sweep``, ``inbox``, ...) pick modules.
"""
from __future__ import annotations

import importlib
import inspect
import sys
import time
import traceback
from pathlib import Path


def modules() -> list[str]:
    return sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))


def call(run, quick: bool) -> None:
    """``main(quick=...)``, ``main(argv)`` (given ``["--quick"]`` or ``[]``) or ``main()``."""
    parameters = inspect.signature(run).parameters
    if "quick" in parameters:
        run(quick=quick)
    elif any(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
             for p in parameters.values()):
        run(["--quick"] if quick else [])
    else:
        run()


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    wanted = [a for a in argv if not a.startswith("-")]
    chosen = [m for m in modules() if not wanted or m.removeprefix("bench_") in wanted or m in wanted]
    failed = []
    begin = time.perf_counter()
    for name in chosen:
        print(f"\n=== {name}{' (quick)' if quick else ''} ===", flush=True)
        started = time.perf_counter()
        try:
            call(importlib.import_module(f"bench.{name}").main, quick)
        except Exception:  # noqa: BLE001  (one broken benchmark must not hide the others)
            traceback.print_exc()
            failed.append(name)
        print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    print(f"\n{len(chosen)} benchmark(s) in {time.perf_counter() - begin:.0f} s"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
