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

from planner.perf.device import SCALE_OUT_LATENCY_S, TP_LATENCY_S, DeviceModel


def members_per_domain(dev: DeviceModel, size: int, stride: int) -> int:
    """How many members of a strided group share one scale-up domain."""
    if size <= 1:
        return 1
    return max(1, min(size, dev.domain // max(1, stride)))


def allreduce_s(dev: DeviceModel, msg_bytes: float, size: int, stride: int = 1) -> float:
    """Ring all-reduce of ``msg_bytes`` per member over a group of ``size``; hierarchical across domains."""
    if size <= 1 or msg_bytes <= 0:
        return 0.0
    g = members_per_domain(dev, size, stride)
    if g >= size:
        return 2.0 * (size - 1) / size * msg_bytes / dev.scale_up_bytes_s + TP_LATENCY_S
    inner = 2.0 * (g - 1) / g * msg_bytes / dev.scale_up_bytes_s if g > 1 else 0.0
    nodes = size / g
    outer = 2.0 * (nodes - 1) / nodes * msg_bytes / (g * dev.scale_out_bytes_s)
    return inner + outer + TP_LATENCY_S + 2.0 * math.log2(max(nodes, 2.0)) * SCALE_OUT_LATENCY_S


def all_to_all_s(dev: DeviceModel, msg_bytes: float, size: int, stride: int = 1) -> float:
    """All-to-all where each member sends ``msg_bytes`` spread evenly over the group.

    The share bound for other domains, (n−g)/n, leaves over the member's own NIC; the share for
    its domain peers over the scale-up fabric; the two run in parallel.
    """
    if size <= 1 or msg_bytes <= 0:
        return 0.0
    g = members_per_domain(dev, size, stride)
    local = (g - 1) / size * msg_bytes / dev.scale_up_bytes_s
    if g >= size:
        return local + TP_LATENCY_S
    remote = (size - g) / size * msg_bytes / dev.scale_out_bytes_s
    return max(local, remote) + SCALE_OUT_LATENCY_S


def p2p_s(dev: DeviceModel, msg_bytes: float, across_domains: bool) -> float:
    """One point-to-point send (pipeline hop)."""
    bw = dev.scale_out_bytes_s if across_domains else dev.scale_up_bytes_s
    lat = SCALE_OUT_LATENCY_S if across_domains else TP_LATENCY_S
    return msg_bytes / bw + lat
