"""Figures the plan states beyond its lines: totals, shares, hedge, tables, constraint rows, objective."""

from __future__ import annotations

import math
from collections import defaultdict

from planner.models.plan import NO_BOUND_WARNING
from planner.verify.context import COST_KEYS, MEASURES, REL_TOL, Key, _total
from planner.verify.lines import LineChecks


class StatedFigures(LineChecks):
    def check_totals(self) -> None:
        tot = self.plan.totals
        assert tot is not None
        tco = _total(self.sums)
        scale = max([abs(v) for v in self.sums.values()] + [0.0])
        tol = 0.01 * max(1, len(self.plan.line_items)) + REL_TOL * scale
        self.close("TCO", tot.tco_usd, tco, abs_tol=tol)
        for k in COST_KEYS:
            self.close(f"total {k}", getattr(tot, f"{k}_usd"), self.sums[k], abs_tol=tol)
        last = self.T[-1]
        self.close("devices", tot.devices, self.meas[("devices", True, last)] + self.meas[("devices", False, last)])
        self.close("domestic devices", tot.domestic_devices, self.meas[("devices", True, last)])
        kw = [sum(v for (s, tt), v in self.power_site.items() if tt == t) for t in self.T]
        self.close("power kW", tot.power_kw, max(kw))
        peaks = [t for t in self.T if math.isclose(kw[t], max(kw), rel_tol=REL_TOL, abs_tol=1e-6)]
        stated = {s: v for s, v in tot.power_kw_by_site.items() if v}
        if not any(self._same_sites(stated, t) for t in peaks):
            self.fail(f"power by site {stated} matches no peak period's recomputed power")
        for which in MEASURES:
            self.close(f"domestic share by {which}", tot.domestic_share.get(which), self.min_share(which))
        jobs = list(self.f.fleet)
        if len(jobs) == 1 and jobs[0].kind == "inference":
            m = jobs[0]
            assert m.traffic is not None
            need = [m.traffic.requests_per_s * m.demand_factor(t) for t in self.T]
            peak = need.index(max(need))
            self.close("required requests/s", tot.required_requests_per_s, need[peak])
            self.close("delivered requests/s", tot.delivered_requests_per_s, self.rps[(m.name, peak)])
        elif len(jobs) == 1 and jobs[0].name in self.pools:
            self.close("training days", tot.training_days, self.pools[jobs[0].name].days)
            self.close("deadline days", tot.deadline_days, jobs[0].deadline_days or 0.0)

    def _same_sites(self, stated: dict[str, float], t: int) -> bool:
        want = {s: v for (s, tt), v in self.power_site.items() if tt == t and v}
        return stated.keys() == want.keys() and all(
            math.isclose(stated[s], want[s], rel_tol=REL_TOL, abs_tol=1e-6) for s in want
        )

    def share(self, which: str, t: int) -> float:
        t = 0 if which == "spend" else t
        whole = self.meas[(which, True, t)] + self.meas[(which, False, t)]
        return self.meas[(which, True, t)] / whole if whole > 0 else 0.0

    def min_share(self, which: str) -> float:
        """The lowest share over the periods that measure anything (a period of nothing has no share)."""
        if which == "spend":
            return self.share(which, 0)
        measured = [t for t in self.T if self.meas[(which, True, t)] + self.meas[(which, False, t)] > 0]
        return min((self.share(which, t) for t in measured), default=0.0)

    def check_hedge(self) -> None:
        """The loss scenario: surviving units alone, re-allocated, serve the hedged share of demand."""
        hedge = self.f.hedge
        lines = self.plan.hedge_allocation
        if hedge is None:
            if lines:
                self.fail("the plan lists a hedge allocation, the workload has no hedge")
            return
        jobs = hedge.workloads or [m.name for m in self.f.fleet if m.kind == "inference"]
        got: dict[tuple[str, int], float] = defaultdict(float)
        used: dict[Key, int] = defaultdict(int)
        for hl in lines:
            where = f"hedge line {hl.offer}@{hl.site} p{hl.period}"
            offer = self.cat.offers.get(hl.offer)
            m = self.members.get(hl.workload)
            if (
                offer is None
                or m is None
                or m.kind != "inference"
                or hl.workload not in jobs
                or hl.period not in self.T
            ):
                self.fail(f"{where}: unknown offer, period or hedged workload '{hl.workload}'")
                continue
            if self.hit(hedge.lose, offer, hl.site):
                self.fail(f"{where}: serves from a part the hedge assumes lost")
            if hl.devices != hl.units * offer.unit.devices:
                self.fail(f"{where}: {hl.units} units of {offer.unit.devices} devices != {hl.devices}")
            self.serving_rules(where, offer, hl.devices_per_replica, m)
            got[(m.name, hl.period)] += self.delivered(hl, m, where)
            used[(hl.offer, hl.site, hl.period)] += hl.units
        for key, units in sorted(used.items()):
            if units > self.available.get(key, 0):
                self.fail(
                    f"hedge {key[0]}@{key[1]} period {key[2]}: {units} units re-allocated, "
                    f"{self.available.get(key, 0)} owned or rented"
                )
        for name in jobs:
            m = self.members[name]
            if m.traffic is None:
                continue
            for t in self.T:
                need = hedge.serve_fraction * m.traffic.requests_per_s * m.demand_factor(t)
                if need > 0 and got[(name, t)] < need * (1 - REL_TOL):
                    self.fail(
                        f"hedge: '{name}' period {t} serves {got[(name, t)]:.3f} req/s after the loss, needs {need:.3f}"
                    )

    def check_tables(self) -> None:
        """Cash flow, schedule and per-workload summaries agree with the line items."""
        plan = self.plan
        multi = len(self.T) > 1
        if multi and [r.period for r in plan.cash_flow] != list(self.T):
            self.fail("the cash flow does not list every period once")
        for row in plan.cash_flow:
            for k in COST_KEYS:
                self.close(
                    f"cash flow p{row.period} {k}",
                    getattr(row, k),
                    self.period_sums[(row.period, k)],
                    abs_tol=0.01 * max(1, len(plan.line_items)),
                )
            want = _total({k: self.period_sums[(row.period, k)] for k in COST_KEYS})
            self.close(f"cash flow p{row.period} total", row.total, want, abs_tol=0.01 * max(1, len(plan.line_items)))
        if multi:
            stated = {
                (r.offer, r.site, r.period): (r.new_units, r.available_units, r.devices_available)
                for r in plan.schedule
            }
            want_rows = {}
            for key, avail in self.available.items():
                new = self.bought.get(key, 0)
                if new or avail:
                    want_rows[key] = (new, avail, avail * self.cat.offers[key[0]].unit.devices)
            if stated != want_rows or len(plan.schedule) != len(stated):
                diff = sorted(set(stated.items()) ^ set(want_rows.items()))[:3]
                self.fail(f"schedule differs from the line items: {diff}")
        summaries = {w.name: w for w in plan.workloads}
        if set(summaries) != set(self.members):
            self.fail(f"workload summaries {sorted(summaries)} != workloads {sorted(self.members)}")
        for name, w in summaries.items():
            m = self.members.get(name)
            if m is None:
                continue
            self.close(
                f"'{name}' cost", w.cost_usd, self.line_totals[name], abs_tol=0.01 * max(1, len(plan.line_items))
            )
            self.close(
                f"'{name}' peak devices",
                w.devices_peak,
                max((self.member_devices[(name, t)] for t in self.T), default=0),
            )
            if m.kind == "inference" and m.traffic is not None:
                need = [m.traffic.requests_per_s * m.demand_factor(t) for t in self.T]
                self.close(f"'{name}' peak requests/s", w.required_requests_per_s_peak, max(need))
                ratios = [self.rps[(name, t)] / r for t, r in enumerate(need) if r > 0]
                if ratios:
                    self.close(f"'{name}' delivered ratio", w.delivered_requests_per_s_min_ratio, min(ratios))
            elif name in self.pools:
                self.close(f"'{name}' training days", w.training_days, self.pools[name].days)

    def check_forced(self) -> None:
        """constraints.force: each named part, vendor or offer serves a workload somewhere (idle units do not count)."""
        for ident in sorted(getattr(self.rf, "forced", ())):
            if not any(
                li.role in ("replicas", "training pool")
                and (li.replicas or li.role == "training pool")
                and ident in (li.accelerator, li.vendor, li.offer)
                for li in self.plan.line_items
            ):
                self.fail(f"the workload forces '{ident}', but nothing in the plan serves on it")

    def check_rows(self) -> None:
        """The printed constraint table is consistent: slack is limit minus use, and no row shows a
        broken limit (the limits themselves are re-checked above from the catalog and workload)."""
        for row in self.plan.constraints:
            tol = 1e-6 * max(1.0, abs(row.limit))
            slack = {"<=": row.limit - row.used, ">=": row.used - row.limit, "==": -abs(row.used)}[row.sense]
            if not math.isclose(row.slack, slack, rel_tol=REL_TOL, abs_tol=tol):
                self.fail(f"constraint row {row.name}: slack {row.slack:g} is not {slack:g}")
            if slack < -tol:
                self.fail(
                    f"constraint row {row.name}: shows {row.used:g} against {row.sense} {row.limit:g}, "
                    "a broken limit in a plan the verifier finds sound"
                )

    def check_objective(self) -> None:
        """The solver's objective is the plan's figure, up to the stated integer rounding."""
        s = self.plan.solver
        if s.objective_value is None:
            self.fail("a plan was found but the solver reports no objective value")
            return
        units = sum(li.units for li in self.plan.line_items) + sum(h.units for h in self.plan.hedge_allocation)
        if s.objective in ("min_tco", "min_capex"):
            want = (
                _total(self.sums)
                if s.objective == "min_tco"
                else (self.sums["capex"] + self.sums["levy"] - self.sums["subsidy"])
            )
            tol = self.rounding_usd + REL_TOL * abs(want)
        elif s.objective == "min_power":
            want = sum(self.power_site.values())
            tol = 0.001 * max(1, units) * len(self.T) + REL_TOL * abs(want)
        else:
            want = sum(self.rps.values())
            tol = 0.001 * max(1, units) * len(self.T) + REL_TOL * abs(want)
        if not math.isclose(s.objective_value, want, rel_tol=0.0, abs_tol=tol):
            self.fail(
                f"objective {s.objective}: solver says {s.objective_value:,.6g}, the plan's figures give "
                f"{want:,.6g} (rounding allows {tol:,.6g})"
            )
        if s.status == "OPTIMAL" and s.gap is not None and s.gap > 1e-6:
            self.fail(f"status OPTIMAL with a gap of {s.gap:.3g}")
        if s.status == "FEASIBLE" and s.gap is None and NO_BOUND_WARNING not in self.plan.warnings:
            self.fail("status FEASIBLE without a gap")
        if (
            s.best_bound is not None
            and s.objective in ("min_tco", "min_capex", "min_power")
            and (s.best_bound > s.objective_value * (1 + REL_TOL) + 1e-6)
        ):
            self.fail(f"bound {s.best_bound:,.6g} above the objective {s.objective_value:,.6g} of a minimisation")
