"""Collective-communication times over a part's scale-up and scale-out fabrics.

Ring all-reduce: 2·(n−1)/n·M/B (Patarasuk & Yuan 2009; the NCCL ring) plus a latency of α inside
a scale-up domain (NCCL's low-latency protocols finish a small NVLink all-reduce in ~10 µs,
nccl-tests) and 2·log2(nodes)·α_out across domains (tree). All-to-all: (n−1)/n·M/B + α. A group
that spans several scale-up domains is hierarchical: the g members inside one domain share the
traffic, each over its own scale-out NIC, so the cross-domain part runs at g·B_out per member
group (the NCCL multi-rail behaviour behind "bus bandwidth").

Groups are laid out as Megatron-Core orders them (tp, cp, ep, dp, pp from the inside out): a
group of ``size`` members with ``stride`` devices between neighbours keeps max(1, domain/stride)
members inside one scale-up domain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

from planner.perf.device import SCALE_OUT_LATENCY_S, TP_LATENCY_S, DeviceModel


def members_per_domain(dev: DeviceModel, size: int, stride: int) -> int:
    """How many members of a strided group share one scale-up domain."""
    if size <= 1:
        return 1
    return max(1, min(size, dev.domain // max(1, stride)))


def allreduce_s(dev: DeviceModel, msg_bytes: float, size: int, stride: int = 1) -> float:
    """Ring all-reduce of ``msg_bytes`` per member over a group of ``size``; hierarchical across domains."""
    return allreduce_fn(dev, size, stride)(msg_bytes)


def allreduce_fn(dev: DeviceModel, size: int, stride: int = 1) -> Callable[[float], float]:
    """:func:`allreduce_s` as a function of the message size alone (the group's figures computed once)."""
    if size <= 1:
        return _no_time
    g = members_per_domain(dev, size, stride)
    up = dev.scale_up_bytes_s
    if g >= size:
        return partial(_ring_within, 2.0 * (size - 1) / size, up)
    nodes = size / g
    return partial(
        _ring_across,
        2.0 * (g - 1) / g if g > 1 else None,
        up,
        2.0 * (nodes - 1) / nodes,
        g * dev.scale_out_bytes_s,
        2.0 * math.log2(max(nodes, 2.0)) * SCALE_OUT_LATENCY_S,
    )


def _ring_within(ring: float, up: float, msg_bytes: float) -> float:
    if msg_bytes <= 0:
        return 0.0
    return ring * msg_bytes / up + TP_LATENCY_S


def _ring_across(
    inner_ring: float | None, up: float, outer_ring: float, outer_bw: float, tree: float, msg_bytes: float
) -> float:
    if msg_bytes <= 0:
        return 0.0
    inner = inner_ring * msg_bytes / up if inner_ring is not None else 0.0
    outer = outer_ring * msg_bytes / outer_bw
    return inner + outer + TP_LATENCY_S + tree


def all_to_all_s(dev: DeviceModel, msg_bytes: float, size: int, stride: int = 1) -> float:
    """All-to-all where each member sends ``msg_bytes`` spread evenly over the group.

    The share bound for other domains, (n−g)/n, leaves over the member's own NIC; the share for
    its domain peers over the scale-up fabric; the two run in parallel.
    """
    return all_to_all_fn(dev, size, stride)(msg_bytes)


def all_to_all_fn(dev: DeviceModel, size: int, stride: int = 1) -> Callable[[float], float]:
    """:func:`all_to_all_s` as a function of the message size alone (the group's figures computed once)."""
    if size <= 1:
        return _no_time
    g = members_per_domain(dev, size, stride)
    return partial(_send, (g - 1) / size, (size - g) / size, dev.scale_up_bytes_s, dev.scale_out_bytes_s, g >= size)


def _send(local_share: float, remote_share: float, up: float, out: float, one_domain: bool, msg_bytes: float) -> float:
    if msg_bytes <= 0:
        return 0.0
    local = local_share * msg_bytes / up
    if one_domain:
        return local + TP_LATENCY_S
    remote = remote_share * msg_bytes / out
    return max(local, remote) + SCALE_OUT_LATENCY_S


def _no_time(msg_bytes: float) -> float:
    return 0.0


def p2p_s(dev: DeviceModel, msg_bytes: float, across_domains: bool) -> float:
    """One point-to-point send (pipeline hop)."""
    bw = dev.scale_out_bytes_s if across_domains else dev.scale_up_bytes_s
    lat = SCALE_OUT_LATENCY_S if across_domains else TP_LATENCY_S
    return msg_bytes / bw + lat
