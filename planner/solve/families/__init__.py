"""One module per constraint family; each adds named constraints and report rows."""

from planner.solve.families.bans import add_bans
from planner.solve.families.budget import add_budget
from planner.solve.families.capacity import add_capacity
from planner.solve.families.demand import add_demand
from planner.solve.families.domestic import add_domestic_share
from planner.solve.families.force import add_force
from planner.solve.families.hedge import add_hedge
from planner.solve.families.placement import add_placement
from planner.solve.families.power import add_power
from planner.solve.families.supply import add_supply_caps, add_tie_ins

FAMILIES = (
    add_capacity,
    add_placement,
    add_demand,
    add_hedge,
    add_budget,
    add_power,
    add_supply_caps,
    add_tie_ins,
    add_domestic_share,
    add_bans,
    add_force,
)

__all__ = ["FAMILIES"]
