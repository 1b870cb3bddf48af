"""``python -m planner WORKLOAD.yaml`` is the same as ``plan WORKLOAD.yaml``."""

from planner.cli import main

main()
