"""Benchmark: realistic fleets of 1-200 workloads over the bundled catalog, 1 or 12 periods.

    python -m planner.bench            # the full table (a few minutes on 2 cores)
    python -m planner.bench --quick    # 1 and 10 workloads only

Prints one table: model size, solve time, status and gap, peak memory, and the 21-point
frontier time; then the end-to-end CLI time of every bundled example. Fixed seeds, so runs are
comparable. These are benchmark figures, not timed tests.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_MODELS = ["llama-3.1-8b", "llama-3.1-70b", "qwen2.5-7b", "qwen2.5-72b", "qwen3-32b", "qwen3-235b-a22b", "deepseek-r1"]
_TRAIN = ["qwen2.5-7b", "llama-3.1-8b", "qwen3-32b", "llama-3.1-70b"]


def fleet_spec(workloads: int, periods: int, seed: int = 7) -> dict[str, Any]:
    """A provincial-cloud-like fleet: mostly serving, one training job in ten, growing demand."""
    rng = random.Random(seed * 1000 + workloads * 10 + periods)
    members: list[dict[str, Any]] = []
    for i in range(workloads):
        if i % 10 == 9:
            members.append(
                {
                    "name": f"train-{i}",
                    "kind": "training",
                    "model": {"preset": rng.choice(_TRAIN)},
                    "tokens_b": rng.choice([20, 50, 100, 200]),
                    "seq_len": 4096,
                    "deadline_days": rng.choice([20, 30, 45]),
                    "start_period": rng.randrange(periods),
                }
            )
            continue
        model = rng.choice(_MODELS)
        big = model in ("deepseek-r1", "qwen3-235b-a22b")
        members.append(
            {
                "name": f"serve-{i}",
                "kind": "inference",
                "model": {"preset": model},
                "precision": "int8",
                "traffic": {
                    "requests_per_s": round(rng.uniform(2, 20) if big else rng.uniform(5, 80), 1),
                    "input_tokens": rng.choice([500, 1000, 2000]),
                    "output_tokens": rng.choice([200, 400, 800]),
                },
                "slo": {"ttft_ms": rng.choice([2000, 3000]), "tpot_ms": rng.choice([50, 60, 80])},
                "start_period": rng.randrange(max(1, periods // 2)),
                "growth_per_period": round(rng.uniform(0.0, 0.08), 3),
            }
        )
    return {
        "name": f"bench-{workloads}x{periods}",
        "fleet": members,
        "horizon_months": 36,
        "periods": {"count": periods, "months": 36 / periods},
        "constraints": {
            "policies": ["state-cloud-50", "data-residency", "h200-approved"],
            "power_kw": 200_000,
        },
        "objective": "min_tco",
    }


@dataclass
class Row:
    case: str
    variables: int
    constraints: int
    solve_s: float
    wall_s: float
    status: str
    gap: float | None
    peak_mb: float
    frontier_s: float | None


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_case(workloads: int, periods: int, time_limit: float, frontier: bool) -> Row:
    import planner
    from planner.models.fleet import Fleet

    catalog = planner.load_catalog()
    spec = Fleet.model_validate(fleet_spec(workloads, periods))
    start = time.perf_counter()
    plan = planner.plan(spec, catalog, time_limit_s=time_limit, workers=4, seed=0, explain_infeasible=False)
    wall = time.perf_counter() - start
    frontier_s = None
    if frontier and workloads == 1 and hasattr(planner, "frontier"):
        t0 = time.perf_counter()
        planner.frontier(spec, vary="domestic_share.min=0:1:0.05", catalog=catalog, time_limit_s=time_limit)
        frontier_s = time.perf_counter() - t0
    return Row(
        f"{workloads} x {periods}",
        plan.solver.variables,
        plan.solver.constraints,
        plan.solver.solve_time_s,
        wall,
        plan.status,
        plan.solver.gap,
        _peak_mb(),
        frontier_s,
    )


def cli_times() -> list[tuple[str, float, int]]:
    out = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "planner", str(path), "--json"], capture_output=True, cwd=ROOT)
        out.append((path.name, time.perf_counter() - t0, proc.returncode))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 and 10 workloads only")
    parser.add_argument("--time-limit", type=float, default=30.0)
    args = parser.parse_args(argv)
    sizes = [1, 10] if args.quick else [1, 10, 50, 200]
    rows: list[Row] = []
    for workloads in sizes:
        for periods in (1, 12):
            # each case in its own process so peak memory is per case
            proc = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import json; from planner.bench import run_case; "
                    f"r = run_case({workloads}, {periods}, {args.time_limit}, True); print(json.dumps(r.__dict__))",
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if proc.returncode != 0:
                print(f"{workloads} x {periods}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            rows.append(Row(**json.loads(proc.stdout.strip().splitlines()[-1])))
    head = (
        f"{'case':>10} {'vars':>8} {'cons':>8} {'solve s':>8} {'wall s':>8} {'status':>9} {'gap':>7} "
        f"{'peak MB':>8} {'frontier s':>10}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        gap = "-" if r.gap is None else f"{r.gap:.2%}"
        fr = "-" if r.frontier_s is None else f"{r.frontier_s:.2f}"
        print(
            f"{r.case:>10} {r.variables:>8} {r.constraints:>8} {r.solve_s:>8.2f} {r.wall_s:>8.2f} {r.status:>9} "
            f"{gap:>7} {r.peak_mb:>8.0f} {fr:>10}"
        )
    print()
    print(f"{'example (plan --json, end to end)':<40} {'seconds':>8} {'exit':>5}")
    for name, secs, code in cli_times():
        print(f"{name:<40} {secs:>8.2f} {code:>5}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
