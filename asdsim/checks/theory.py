"""Queueing formulas the verification checks compare the simulator with: Erlang C for an M/M/c
queue (the chance of waiting, the mean wait, the least servers for a wait target) and Cobham's
formula for priority classes served without preemption."""

from __future__ import annotations

import math
from collections.abc import Sequence


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang's C formula).

    Parameters
    ----------
    servers
        Number of servers ``c``.
    offered
        Offered load ``a = lambda / mu`` in Erlangs; must be below ``servers``.

    Returns
    -------
    float
        ``C(c, a)``, computed through the stable Erlang B recursion.
    """
    if not 0 <= offered < servers:
        raise ValueError(f"need 0 <= offered load < servers, got {offered:g} and {servers}")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered * blocking / (k + offered * blocking)
    return servers * blocking / (servers - offered * (1.0 - blocking))


def mmc_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean wait in the queue of an M/M/c system: ``C(c, a) / (c mu - lambda)``."""
    offered = arrival_rate / service_rate
    return erlang_c(servers, offered) / (servers * service_rate - arrival_rate)


def least_servers(arrival_rate: float, service_rate: float, wait: float, probability: float
                  ) -> int:
    """The least number of servers c of an M/M/c queue with P(W <= wait) >= probability.

    P(W <= t) = 1 - C(c, a) exp(-(c mu - lambda) t), with a = lambda / mu and C Erlang's C; it
    rises with c, so the answer is the first stable c that reaches ``probability``.
    """
    offered = arrival_rate / service_rate
    servers = math.floor(offered) + 1  # the smallest stable c
    while 1.0 - erlang_c(servers, offered) * math.exp(
            -(servers * service_rate - arrival_rate) * wait) < probability:
        servers += 1
    return servers


def cobham_waits(servers: int, arrival_rates: Sequence[float], service_rate: float) -> list[float]:
    """Mean wait of each class in an M/M/c queue with non-preemptive priorities (Cobham).

    Parameters
    ----------
    servers
        Number of servers ``c``.
    arrival_rates
        Arrival rate of each class, most urgent first.
    service_rate
        Service rate ``mu`` of every class.

    Returns
    -------
    list of float
        ``W_k = C(c, a) / (c mu) / ((1 - sigma_{k-1}) (1 - sigma_k))`` with
        ``sigma_k = sum_{i <= k} lambda_i / (c mu)``.
    """
    capacity = servers * service_rate
    base = erlang_c(servers, sum(arrival_rates) / service_rate) / capacity
    waits, sigma = [], 0.0
    for rate in arrival_rates:
        before, sigma = sigma, sigma + rate / capacity
        waits.append(base / ((1.0 - before) * (1.0 - sigma)))
    return waits
