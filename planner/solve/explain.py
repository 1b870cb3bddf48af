"""Why no plan exists: a minimal set of constraints that cannot all hold, and what would fix it.

Every user constraint sits behind one assumption literal. CP-SAT returns a sufficient set of
assumptions for infeasibility; deletion then drops each member whose removal keeps the model
infeasible, so every name left is needed (a minimal, not necessarily minimum, core). A member
whose check a time limit or Ctrl-C stopped stays in, and the explanation is then marked not
minimal; after a Ctrl-C no further check or repair search starts (probe.solve). SLOs and
deadlines act before the model; :mod:`planner.solve.targets` asks whether loosening one of
them lets the core hold, and adds it to the core if so. Each member then gets the smallest
change that restores a plan on its own (:mod:`planner.solve.repair`), written as an edit to
the user's files and checked by re-planning (:mod:`planner.solve.edits`).
"""

from __future__ import annotations

import logging

from ortools.sat.python import cp_model

from planner.models.plan import CoreMember, Explanation, Repair
from planner.solve import edits, interrupt, repair, targets
from planner.solve.edits import Inputs
from planner.solve.limits import demand_job
from planner.solve.probe import STRUCTURAL
from planner.solve.problem import Problem
from planner.solve.run import SolverOptions, build, make_solver

log = logging.getLogger(__name__)

POLICY_FAMILIES = ("policy:", "domestic_share:", "residency:")
"""Members that name a policy pack: switching the pack off is also offered as a repair."""


def _infeasible(
    model: cp_model.CpModel, literals: list[cp_model.IntVar], options: SolverOptions
) -> tuple[bool | None, list[int]]:
    """True (with CP-SAT's sufficient assumptions) or False when proven, None when a time limit
    or a Ctrl-C stopped the check first."""
    if interrupt.requested():
        return None, []
    model.clear_assumptions()
    model.add_assumptions(literals)
    solver = make_solver(SolverOptions(options.time_limit_s, 1, options.seed), max(0.5, options.time_limit_s / 4))
    status = interrupt.solve(solver, model)
    if status == cp_model.INFEASIBLE:
        return True, list(solver.sufficient_assumptions_for_infeasibility())
    return (False if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None), []


def minimal_core(problem: Problem, options: SolverOptions) -> tuple[list[str], bool] | None:
    """Names of a conflicting set, and whether it is shown minimal (every deletion check ended;
    a member whose check a time limit or Ctrl-C stopped stays in); None if the model is not
    shown infeasible."""
    b = build(problem, explain=True)
    for name, lit in b.literals.items():
        if name.startswith(STRUCTURAL):
            b.model.add(lit == 1)
    names = sorted(n for n in b.literals if not n.startswith(STRUCTURAL))
    lits = [b.literals[n] for n in names]
    infeasible, core_idx = _infeasible(b.model, lits, options)
    if not infeasible:
        return None
    by_index = {lit.index: name for name, lit in zip(names, lits, strict=True)}
    core = sorted({by_index[i] for i in core_idx if i in by_index}) or names
    minimal = True
    for name in list(core):
        trial = [n for n in core if n != name]
        still, _ = _infeasible(b.model, [b.literals[n] for n in trial], options)
        if still:
            core = trial
        elif still is None:
            minimal = False
    return core, minimal


def describe(problem: Problem, name: str) -> str:
    """One phrase per constraint name, for the sentence a person reads."""
    for cap in problem.power_caps:
        if cap.name == name:
            where = "across all sites" if name == "power:total" else f"at {name.split(':', 1)[1]}"
            return f"the {edits.power_text(cap.max_kw)} power cap {where} ({name})"
    for floor in problem.share_floors:
        if floor.name == name:
            pid = name.split(":", 1)[1]
            owner = "the workload's" if pid == "workload" else f"policy '{pid}':"
            return f"{owner} {max(floor.min_by_period) * 100:g} % domestic floor by {floor.measure} ({name})"
    for ucap in problem.unit_caps:
        if ucap.name == name:
            return f"the {ucap.description}: at most {ucap.max_units:,} units ({name})"
    for tie in problem.tie_ins:
        if tie.name == name:
            return f"{tie.description}: {tie.ratio:g} new domestic devices per tied device ({name})"
    if name == "budget:total" and problem.budget_total is not None:
        return f"the total budget of {edits.money_text(problem.budget_total)} ({name})"
    if name == "budget:capex" and problem.budget_capex is not None:
        return f"the capex budget of {edits.money_text(problem.budget_capex)} ({name})"
    job_name = demand_job(problem, name)
    if job_name is not None:
        job = problem.jobs[job_name]
        if job.kind == "inference":
            return f"serving {max(job.required_rps):,.4g} requests/s of '{job.name}' ({name})"
        return f"training '{job.name}' on one pool within its deadline ({name})"
    if problem.hedge is not None and name == problem.hedge.name:
        return f"the hedge: {problem.hedge.description} ({name})"
    for forced in problem.forced:
        if forced.name == name:
            return f"using {forced.ident} in the plan ({name})"
    if name in problem.ban_reasons:
        return f"{problem.ban_reasons[name]} ({name})"
    return name


def _details(problem: Problem, core: list[str], src: Inputs | None) -> list[str]:
    """What limits the candidate set: parts the SLOs or deadlines rule out, batches TPOT caps."""
    jobs = sorted({j for n in core if (j := demand_job(problem, n)) is not None})
    out = []
    for job in jobs:
        slo = targets.targets_of(src, job) if src is not None else []
        tpot = next((f"{t.current:g} ms TPOT target" for t in slo if t.name.startswith("slo:tpot")), "TPOT target")
        capped = sorted(
            {
                problem.groups[c.group].accelerator
                for c in problem.candidates_for(job)
                if c.shape is not None and getattr(c.shape, "limited_by", "") == "TPOT target"
            }
        )
        if capped:
            out.append(f"the {tpot} of '{job}' caps the batch per replica on {', '.join(capped)}")
    for forced in problem.forced:
        if forced.name in core and not forced.groups:
            out.append(f"no offer of {forced.ident} can serve this workload (see the parts excluded below)")
    # parts ruled out for the jobs in conflict (SLO, deadline, memory) first, then the rest
    named = [e for e in problem.excluded if any(f"'{j}'" in e for j in jobs)]
    return out + (named + [e for e in problem.excluded if e not in named])[:8]


def _sentence(phrases: list[str]) -> str:
    if len(phrases) == 1:
        return f"{phrases[0]} cannot hold"
    return ", ".join(phrases[:-1]) + f" and {phrases[-1]} cannot all hold"


def _repairs(problem: Problem, core: list[str], options: SolverOptions, src: Inputs | None) -> list[Repair]:
    out: list[Repair] = []
    for fix in repair.fixes(problem, core, options):
        if src is None:
            out.append(
                Repair(
                    constraint=fix.name,
                    action=fix.action,
                    current=fix.current,
                    required=fix.required,
                    unit=fix.unit,
                    text=edits.worded(
                        f"{fix.name}: {fix.action} "
                        + (f"to {fix.required:g} {fix.unit}" if fix.required is not None else ""),
                        fix,
                    ),
                    least=fix.least,
                )
            )
            continue
        found = edits.repair(src, problem, fix)
        if found is not None:
            out.append(found)
    if src is not None:  # switching a whole policy pack off, for members that also have a number
        done = {r.constraint for r in out if r.action == "remove"}
        for name in core:
            if name.startswith(POLICY_FAMILIES) and name not in done and name.split(":", 1)[1] in src.catalog.policies:
                found = edits.repair(src, problem, repair.Fix(name, "remove"))
                if found is not None:
                    out.append(found)
    return out


def explain(problem: Problem, options: SolverOptions, src: Inputs | None = None) -> Explanation:
    """The conflict in words, its members, and each single change that would give a plan.

    ``src`` (the user's workload and catalog) lets SLOs and deadlines join the conflict and
    turns repairs into checked edits of the user's files; without it repairs are in model terms.
    """
    found_core = minimal_core(problem, options)
    if found_core is None:
        return Explanation(summary="the model is infeasible but no conflicting set was isolated in time")
    core, minimal = found_core
    found = targets.members(src, problem, core) if src is not None else []
    members = [CoreMember(name=n, family=n.split(":")[0], text=describe(problem, n)) for n in core]
    members += [CoreMember(name=t.name, family=t.name.split(":")[0], text=f"{t.label} ({t.name})") for t in found]
    summary = _sentence([m.text for m in members])
    if not problem.candidates:
        summary = f"no accelerator in the catalog can run this workload at all: {summary}"
    fixes = _repairs(problem, core, options, src)
    if src is not None:
        for target in found:
            fixed = targets.repair(src, target)
            if fixed is not None:
                fixes.append(fixed)
    return Explanation(
        summary=summary,
        core=[m.name for m in members],
        details=_details(problem, core, src),
        repairs=[r.model_dump(mode="json") for r in fixes],
        members=members,
        minimal=minimal,
        interrupted=interrupt.requested(),
    )
