"""When a detector's own validation is degenerate: numbers from training that say it has learnt nothing usable.

Read from what training stored (`Detector.validation_metrics`, `Detector.training_curve`); nothing is computed
from scores. The page shows the reasons as a warning, and making such a detector active needs an admin's explicit
confirmation (webapp.detectors.views.detector_active).
"""

from __future__ import annotations

AUC_KEYS = ("video_auc", "frame_auc", "val_roc_auc", "val_frame_auc")
# A validation loss whose spread over the epochs is below this share of its mean never moved.
FLAT_LOSS = 1e-6


def degenerate_reasons(metrics: dict, curve: list[dict]) -> list[str]:
    """Plain sentences, one per problem seen; empty when none is."""
    metrics = metrics or {}
    reasons = [f"its validation {key.replace('val_', '').replace('_', ' ')} is 0 (every anomaly ranked below every "
               f"normal frame or video)" for key in AUC_KEYS if metrics.get(key) == 0]
    losses = [row["val_loss"] for row in curve or () if row.get("val_loss") is not None]
    if len(losses) >= 2 and max(losses) - min(losses) <= FLAT_LOSS * max(abs(sum(losses) / len(losses)), 1e-12):
        reasons.append(f"its validation loss stayed at {losses[0]:.6g} for all {len(losses)} epochs")
    if one_class(metrics):
        reasons.append("its validation split held one class only, so its threshold was not checked against both")
    return reasons


def one_class(metrics: dict) -> bool:
    """Whether training's validation split had only normal or only anomalous frames (as far as it recorded)."""
    frames, anomalous = metrics.get("val_frames"), metrics.get("val_anomalous_frames")
    if isinstance(frames, int) and isinstance(anomalous, int) and frames > 0:
        return anomalous in (0, frames)
    warnings = " ".join(str(w) for w in metrics.get("warnings") or ())
    return "has no anomalies" in warnings or "has no normal frames" in warnings  # detection.thresholds' words
