"""The MIL ranking loss on tiny bags worked out by hand, and why the origin report's equation 1 is wrong."""

import pytest
import torch

from detection.mil.loss import bag_score, ranking_loss


def report_equation_1(anomalous: torch.Tensor, normal: torch.Tensor) -> torch.Tensor:
    """The origin report's equation 1 as printed: the minus before max f(n) is missing, so it reads as a product."""
    return torch.relu(1 - anomalous.max() * normal.max())


def test_it_matches_a_hand_computed_pair():
    anomalous = torch.tensor([[0.1, 0.9, 0.3]])
    normal = torch.tensor([[0.2, 0.4, 0.1]])
    loss = ranking_loss(anomalous, normal, lambda_smooth=0.5, lambda_sparse=0.25)
    # hinge 1 - 0.9 + 0.4 = 0.5; smooth (0.8^2 + 0.6^2) = 1.0; sparse 1.3
    assert loss.ranking.item() == pytest.approx(0.5)
    assert loss.smoothness.item() == pytest.approx(1.0)
    assert loss.sparsity.item() == pytest.approx(1.3)
    assert loss.total.item() == pytest.approx(0.5 + 0.5 * 1.0 + 0.25 * 1.3)


def test_it_pairs_every_normal_bag_with_every_anomalous_bag():
    anomalous = torch.tensor([[0.9, 0.0], [0.3, 0.0]])
    normal = torch.tensor([[0.5, 0.0], [0.0, 0.0]])
    loss = ranking_loss(anomalous, normal, lambda_smooth=0.0, lambda_sparse=0.0)
    # pairs: (0.9, 0.5) -> 0.6, (0.9, 0) -> 0.1, (0.3, 0.5) -> 1.2, (0.3, 0) -> 0.7; mean 0.65
    assert loss.total.item() == pytest.approx(0.65)


def test_it_is_zero_once_anomalies_outrank_normal_by_the_margin():
    anomalous = torch.tensor([[0.0, 1.0]])
    normal = torch.tensor([[0.0, 0.0]])
    assert ranking_loss(anomalous, normal, lambda_smooth=0.0, lambda_sparse=0.0).total.item() == 0.0


def test_the_report_sign_dropped_formula_gives_the_wrong_answer():
    anomalous = torch.tensor([[0.1, 0.9, 0.3]])
    normal = torch.tensor([[0.2, 0.4, 0.1]])
    right = ranking_loss(anomalous, normal, lambda_smooth=0.0, lambda_sparse=0.0).total
    wrong = report_equation_1(anomalous, normal)
    assert right.item() == pytest.approx(0.5)
    assert wrong.item() == pytest.approx(1 - 0.9 * 0.4)  # 0.64, not 0.5
    assert wrong.item() != pytest.approx(right.item())


def test_the_report_formula_would_push_normal_scores_up():
    normal = torch.tensor([[0.2, 0.4, 0.1]], requires_grad=True)
    anomalous = torch.tensor([[0.1, 0.9, 0.3]])
    report_equation_1(anomalous, normal).backward()
    assert normal.grad[0, 1] < 0  # descending it raises the normal video's top score
    normal.grad = None
    ranking_loss(anomalous, normal, lambda_smooth=0.0, lambda_sparse=0.0).total.backward()
    assert normal.grad[0, 1] > 0  # the right loss lowers it


def test_gradients_reach_only_the_top_segments_of_the_ranking_term():
    anomalous = torch.tensor([[0.1, 0.6, 0.3]], requires_grad=True)
    normal = torch.tensor([[0.2, 0.4, 0.1]], requires_grad=True)
    ranking_loss(anomalous, normal, lambda_smooth=0.0, lambda_sparse=0.0).total.backward()
    assert anomalous.grad.tolist() == [[0.0, -1.0, 0.0]]
    assert normal.grad.tolist() == [[0.0, 1.0, 0.0]]


def test_top_k_pooling_averages_the_k_highest_segments():
    scores = torch.tensor([[0.1, 0.9, 0.5, 0.7], [0.2, 0.2, 0.2, 0.2]])
    assert bag_score(scores, pool="topk", k=3).tolist() == pytest.approx([0.7, 0.2])
    assert bag_score(scores[:, :2], pool="topk", k=3).tolist() == pytest.approx([0.5, 0.2])  # k capped at S


def test_it_rejects_empty_batches_and_unknown_pooling():
    with pytest.raises(ValueError, match="at least one anomalous and one normal"):
        ranking_loss(torch.zeros(0, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="unknown pool"):
        bag_score(torch.zeros(1, 4), pool="mean")
