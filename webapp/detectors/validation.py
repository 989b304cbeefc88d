"""When a detector's own validation is degenerate: numbers from training that say it has learnt nothing usable.

Read from what training stored (`Detector.validation_metrics`, `Detector.training_curve`); nothing is computed
from scores. The page shows the reasons as a warning, and making such a detector active from its page needs an
admin's explicit confirmation (webapp.detectors.views.detector_active); training leaves one whose model failed
(`failed_training`) inactive even when it was created to be active.
"""

from __future__ import annotations

AUC_KEYS = ("video_auc", "frame_auc", "val_roc_auc", "val_frame_auc")
# A validation loss whose spread over the epochs is within this share of its mean never really moved: a model
# with a learning rate of 0 still drifts about 0.2% (batch-norm statistics), training proper moves it by far more.
FLAT_LOSS = 0.005


def degenerate_reasons(metrics: dict, curve: list[dict]) -> list[str]:
    """Plain sentences, one per problem seen; empty when none is."""
    reasons = failed_training(metrics, curve)
    if one_class(metrics or {}):
        reasons.append("its validation split held one class only, so its threshold was not checked against both")
    return reasons


def failed_training(metrics: dict, curve: list[dict]) -> list[str]:
    """The problems that say the model itself learnt nothing usable (an AUC of 0, a loss that never moved).

    Training does not make such a detector active even when it was created to be. A one-class validation split
    is not among them: it is how a CAE usually validates (normal flights only, the threshold a high quantile of
    their scores), so the detector stays as its admin asked when creating it, with the warning on its page."""
    metrics = metrics or {}
    reasons = [f"its validation {key.replace('val_', '').replace('_', ' ')} is 0 (every anomaly ranked below every "
               f"normal frame or video)" for key in AUC_KEYS if metrics.get(key) == 0]
    losses = [row["val_loss"] for row in curve or () if row.get("val_loss") is not None]
    if len(losses) >= 2 and max(losses) - min(losses) <= FLAT_LOSS * max(abs(sum(losses) / len(losses)), 1e-12):
        reasons.append(f"its validation loss stayed at about {sum(losses) / len(losses):.4g} for all {len(losses)} "
                       f"epochs (within {FLAT_LOSS:.1%})")
    return reasons


def one_class(metrics: dict) -> bool:
    """Whether training's validation split had only normal or only anomalous frames (as far as it recorded)."""
    frames, anomalous = metrics.get("val_frames"), metrics.get("val_anomalous_frames")
    if isinstance(frames, int) and isinstance(anomalous, int) and frames > 0:
        return anomalous in (0, frames)
    warnings = " ".join(str(w) for w in metrics.get("warnings") or ())
    return "has no anomalies" in warnings or "has no normal frames" in warnings  # detection.thresholds' words
