"""Build the CP-SAT model from a prepared problem, solve it in stages, report status as a value."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model

from planner.solve import interrupt, overflow, site_pool
from planner.solve.builder import Builder
from planner.solve.families import FAMILIES
from planner.solve.objective import stages
from planner.solve.problem import Problem

log = logging.getLogger(__name__)

TIE_BREAK_SHARE = 0.25
TIE_BREAK_MIN_S = 2.0
"""Each tie-break stage gets at most this share of the time limit (but at least two seconds)."""
EAGER_LP_MIN_VARIABLES = 1_500
"""From this size, stage 1 puts every linear constraint in the LP at once instead of lazily:
on multi-period fleets the bound is much tighter (200 x 12 after 13 s: 76.4M instead of
74.5-75.7M, the optimum near 77M). Smaller models solve faster with the default."""
ONE_WORKER_MAX_VARIABLES = 20_000
"""Models up to this size are searched by one deterministic worker (full LP relaxation): on
these covering models it is as fast as a portfolio, and its search path depends on the model
alone, so the plan is byte-identical whatever ``workers`` says. Larger models use ``workers``.
A search stopped by its work limit or proven optimal is the same on any machine; one the wall
clock stops is not. On large multi-period fleets the clock nearly always stops first (200 x 12
shortlist model: 4.5 deterministic seconds took 43-46 s of wall time), so their FEASIBLE plans
can differ with the machine and its load."""

_STATUS: dict[object, str] = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
    cp_model.UNKNOWN: "NO_SOLUTION",
}


@dataclass(frozen=True)
class SolverOptions:
    """Explicit solver settings: the same settings and input always give the same plan."""

    time_limit_s: float = 10.0
    workers: int = 4
    seed: int = 0
    log_search: bool = False
    tie_breaks: bool = True
    """False: stop after the workload's objective (faster; which of several equally good plans
    comes back is then not fixed). For plans that serve only as a starting point or a figure."""


@dataclass(frozen=True)
class Incumbent:
    """A plan already in hand (per-site names) and its stage-1 objective value, to be beaten."""

    value: int
    solution: dict[str, int]


@dataclass
class SolveResult:
    status: str
    solution: dict[str, int]
    objective_value: float | None
    best_bound: float | None
    solve_time_s: float
    wall_time_s: float
    stages: list[str]
    builder: Builder
    interrupted: bool = False
    stage_values: dict[str, float] = field(default_factory=dict)
    workers: int = 0
    """Worker threads the search used (see ONE_WORKER_MAX_VARIABLES)."""

    def incumbent(self) -> Incumbent | None:
        """This result's plan as one a later search must beat (None without a plan)."""
        if self.status not in ("OPTIMAL", "FEASIBLE") or self.objective_value is None:
            return None
        return Incumbent(round(self.objective_value), self.solution)

    @property
    def gap(self) -> float | None:
        if self.objective_value is None or self.best_bound is None:
            return None
        if self.objective_value == 0:
            return 0.0 if self.best_bound == 0 else None
        return abs(self.objective_value - self.best_bound) / abs(self.objective_value)


def build(problem: Problem, explain: bool = False, compact: bool = False) -> Builder:
    b = Builder(problem, explain=explain, compact=compact)
    b.make_variables()
    for family in FAMILIES:
        family(b)
    return b


def make_solver(options: SolverOptions, time_left: float, work_limit: float | None = None) -> cp_model.CpSolver:
    """A solver with the explicit settings; ``work_limit`` (deterministic seconds) makes one
    worker stop at the same point of its search on any machine, however loaded."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_left)
    solver.parameters.num_workers = options.workers
    solver.parameters.random_seed = options.seed
    solver.parameters.log_search_progress = options.log_search
    if work_limit is not None:
        solver.parameters.max_deterministic_time = max(0.01, work_limit)
    # The LP relaxation proves these covering problems optimal at once; the default portfolio
    # of 2-4 workers may not run a full-LP worker, so always add one (1 worker: full LP itself).
    if options.workers == 1:
        solver.parameters.linearization_level = 2
    else:
        solver.parameters.extra_subsolvers.append("max_lp")
    return solver


def search_options(b: Builder, options: SolverOptions) -> SolverOptions:
    """The settings the search really runs with (see ONE_WORKER_MAX_VARIABLES)."""
    small = len(b.model.proto.variables) <= ONE_WORKER_MAX_VARIABLES
    return replace(options, workers=1) if small else options


def variables(b: Builder) -> dict[str, cp_model.IntVar]:
    """Every decision variable by its solution name."""
    out = {f"n:{k}@{t}": v for (k, t), v in b.n.items()}
    out.update({f"x:{k}@{t}": v for (k, t), v in b.x.items()})
    out.update({f"y:{k}": v for k, v in b.y.items()})
    out.update({f"z:{k}@{t}": v for (k, t), v in b.z.items()})
    out.update({site_pool.block_name(g, k, t): v for (g, k, t), v in b.s.items()})
    return out


def solution_of(b: Builder, solver: cp_model.CpSolver) -> dict[str, int]:
    """The solution in per-site names, whether or not the model pooled sites."""
    return per_site(b, values_of(solver, variables(b)))


def values_of(solver: cp_model.CpSolver, by_name: dict[str, cp_model.IntVar]) -> dict[str, int]:
    """The solver's solution for these variables, read in bulk (per variable is slow on big models)."""
    found = list(solver.response_proto.solution)
    return {name: found[v.index] for name, v in by_name.items()}


def per_site(b: Builder, values: dict[str, int]) -> dict[str, int]:
    """Values of the model's variables (by name) as a solution in per-site names."""
    values = {**values, **dict.fromkeys(b.zeros, 0)}
    return site_pool.expand(b.pools, values, len(b.problem.periods)) if b.pools else values


def in_model(b: Builder, solution: dict[str, int]) -> dict[str, int]:
    """A per-site solution as values of the model's variables (pooled where the model pools)."""
    values = site_pool.collapse(b.pools, solution, len(b.problem.periods)) if b.pools else solution
    return {name: values.get(name, 0) for name in variables(b)}


def hint(b: Builder, solution: dict[str, int]) -> None:
    """Start the search from a per-site solution (pooled where the model pools)."""
    b.model.clear_hints()
    by_name, values = variables(b), in_model(b, solution)
    hints = b.model.proto.solution_hint  # filled in bulk: add_hint per variable is slow on big models
    hints.vars.extend(v.index for v in by_name.values())
    hints.values.extend(values[name] for name in by_name)


def solve_problem(problem: Problem, options: SolverOptions, incumbent: Incumbent | None = None) -> SolveResult:
    """Stage 1 decides status and objective; later stages only break ties within it (skipped
    without ``options.tie_breaks``).

    With an ``incumbent`` (a minimising stage 1 only), stage 1 searches only for strictly
    cheaper plans: the cutoff prunes, and the search is not pulled towards the incumbent as a
    hint would pull it. If none is found the incumbent stands — proven optimal when the search
    shows none exists."""
    start = time.perf_counter()
    interrupt.reset()
    overflow.check_problem(problem)  # absurd numbers: a clear refusal, not a crash while building
    b = build(problem, compact=True)
    model = b.model
    plan_stages = stages(b) if options.tie_breaks else stages(b)[:1]
    # searching only below a plan in hand is mostly proving a bound: one deterministic worker
    # with the full LP does that best (200 x 12, 10.6 s: 76.3M; four workers on two cores 73.2M)
    bounding = incumbent is not None and not plan_stages[0].maximize
    searching = replace(options, workers=1) if bounding else search_options(b, options)
    solution: dict[str, int] = {}
    status = "NO_SOLUTION"
    objective_value: float | None = None
    bound: float | None = None
    solve_time = 0.0
    done: list[str] = []
    stage_values: dict[str, float] = {}
    for index, stage in enumerate(plan_stages):
        if stage.maximize:
            model.maximize(stage.expr)
        else:
            model.minimize(stage.expr)
        cutoff = incumbent if index == 0 and not stage.maximize else None
        if cutoff is not None:
            objective_below(model, cutoff.value)  # and no hint: it would pull the search back to it
        if solution:  # a tie-break stage starts from the plan of the stage before
            hint(b, solution)
        left = options.time_limit_s - (time.perf_counter() - start)
        if index > 0 and left <= 0.01:
            log.info("time limit reached before tie-break stage %s; keeping the plan found", stage.name)
            break
        # tie-breaks only polish an optimum: never let them eat the time limit
        share = options.time_limit_s if index == 0 else max(TIE_BREAK_MIN_S, TIE_BREAK_SHARE * options.time_limit_s)
        if index == 0:
            overflow.check_model(model)
        elif interrupt.requested():
            break
        if searching.workers == 1:  # deterministic: stop on work done, the wall clock only as a backstop
            solver = make_solver(searching, left, work_limit=min(share, left))
        else:
            solver = make_solver(searching, min(left, share))
        if index == 0 and len(model.proto.variables) >= EAGER_LP_MIN_VARIABLES:
            solver.parameters.add_lp_constraints_lazily = False
        code = interrupt.solve(solver, model)  # Ctrl-C stops the search and keeps the best found
        solve_time += solver.wall_time
        name = _STATUS.get(code, "NO_SOLUTION")
        log.info("stage %s: %s in %.3fs", stage.name, name, solver.wall_time)
        if cutoff is not None and name in ("INFEASIBLE", "NO_SOLUTION"):
            # nothing cheaper found: the incumbent stands, optimal if nothing cheaper exists
            status = "OPTIMAL" if name == "INFEASIBLE" else "FEASIBLE"
            objective_value = float(cutoff.value)
            bound = objective_value if name == "INFEASIBLE" else min(solver.best_objective_bound, objective_value)
            solution, value = dict(cutoff.solution), cutoff.value
            log.info("stage %s: kept the plan in hand (%s)", stage.name, status)
            name = status
        elif index == 0:
            status = name
            if name not in ("OPTIMAL", "FEASIBLE"):
                if name == "NO_SOLUTION" and not stage.maximize:  # proven even without a plan
                    bound = solver.best_objective_bound
                break
            objective_value = solver.objective_value
            bound = solver.best_objective_bound
            solution, value = solution_of(b, solver), round(solver.objective_value)
        elif name not in ("OPTIMAL", "FEASIBLE"):
            break
        else:
            solution, value = solution_of(b, solver), round(solver.objective_value)
        stage_values[stage.name] = float(value)
        done.append(stage.name if name == "OPTIMAL" or index == 0 else f"{stage.name} (stopped at its time share)")
        # hold this stage at what was reached before optimising the next one
        if stage.maximize:
            model.add(stage.expr >= value)
        else:
            model.add(stage.expr <= value)
        if name != "OPTIMAL":
            break
    return SolveResult(
        status=status,
        solution=solution,
        objective_value=objective_value,
        best_bound=bound,
        solve_time_s=solve_time,
        wall_time_s=time.perf_counter() - start,
        stages=done,
        builder=b,
        interrupted=interrupt.requested(),
        stage_values=stage_values,
        workers=searching.workers,
    )


def objective_below(model: cp_model.CpModel, value: int) -> None:
    """Only plans whose (minimised) objective is below ``value`` are feasible."""
    objective = model.proto.objective
    objective.domain.clear()
    objective.domain.extend([-(2**62), value - 1 - round(objective.offset)])
