"""Capacity planner for mixed domestic/NVIDIA accelerator fleets."""
