"""The MIL ranking loss of Sultani, Chen and Shah (2018), vectorised over every anomalous/normal bag pair.

For one anomalous bag a and one normal bag n (segment scores f in 0..1):

    l(a, n) = max(0, 1 - max_i f(a_i) + max_i f(n_i))
              + lambda_smooth * sum_i (f(a_i) - f(a_{i+1}))^2 + lambda_sparse * sum_i f(a_i)

The origin report's equation 1 lost the minus sign before `max f(n)`; read as a product, it would reward
high scores on normal videos (see tests/detection/test_mil_loss.py). Every normal bag of a batch is paired
with every anomalous one; averaged over the pairs, the smoothness and sparsity terms become the mean over
anomalous bags, since each anomalous bag appears in as many pairs as there are normal bags.

`pool="topk"` replaces the single max by the mean of the k highest scores (a variant measured in
BENCHMARKS.md): one noisy segment then cannot carry the whole bag.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class RankingLoss:
    """The loss of one batch and its parts (each a scalar tensor), so training can log them apart."""

    total: torch.Tensor
    ranking: torch.Tensor
    smoothness: torch.Tensor
    sparsity: torch.Tensor


def bag_score(scores: torch.Tensor, *, pool: str = "max", k: int = 3) -> torch.Tensor:
    """(B, S) segment scores -> (B,) bag scores: the max, or the mean of the top `k` (k capped at S)."""
    if pool == "max":
        return scores.max(dim=1).values
    if pool == "topk":
        return scores.topk(min(k, scores.shape[1]), dim=1).values.mean(dim=1)
    raise ValueError(f"unknown pool {pool!r}; use 'max' or 'topk'")


def ranking_loss(
    anomalous: torch.Tensor,
    normal: torch.Tensor,
    *,
    lambda_smooth: float = 8e-5,
    lambda_sparse: float = 8e-5,
    margin: float = 1.0,
    pool: str = "max",
    k: int = 3,
) -> RankingLoss:
    """The MIL ranking loss of anomalous (Ba, S) against normal (Bn, S) segment scores, all Ba x Bn pairs."""
    if anomalous.ndim != 2 or normal.ndim != 2:
        raise ValueError(
            f"scores must be (bags, segments); got {tuple(anomalous.shape)} and {tuple(normal.shape)}"
        )
    if anomalous.shape[0] == 0 or normal.shape[0] == 0:
        raise ValueError("the ranking loss needs at least one anomalous and one normal bag")
    top_anomalous = bag_score(anomalous, pool=pool, k=k)  # (Ba,)
    top_normal = bag_score(normal, pool=pool, k=k)  # (Bn,)
    hinge = torch.relu(margin - top_anomalous[:, None] + top_normal[None, :])  # (Ba, Bn)
    smoothness = (anomalous[:, 1:] - anomalous[:, :-1]).pow(2).sum(dim=1).mean()
    sparsity = anomalous.sum(dim=1).mean()
    ranking = hinge.mean()
    total = ranking + lambda_smooth * smoothness + lambda_sparse * sparsity
    return RankingLoss(total=total, ranking=ranking, smoothness=smoothness, sparsity=sparsity)
