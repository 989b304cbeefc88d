"""The schema of `metrics.json`, written by `python -m detection evaluate` (version 2).

Keys never disappear: an undefined number (an AUC on one class, a detector that failed) is null. New keys
may be added in a later version; renaming or removing one bumps SCHEMA_VERSION. Version 2 added the
object-level keys (object_recall, per_object_size, per_object_class) and events' flight_hours and
false_events_per_flight_hour; every version 1 key is still there with its meaning.

    {
      "schema_version": 2,
      "manifest": str,                 # the manifest evaluated, as given
      "created": str,                  # ISO 8601 UTC time of the run
      "settings": {"fps", "size", "seed", "epochs", "detectors"},
      "splits": {"train"|"val"|"test": {"videos", "normal", "anomalous", "unlabelled", "frames"}},
      "detectors": {<name>: DETECTOR ENTRY, ...}
    }

DETECTOR ENTRY (anomaly is the positive class; a frame is flagged when its score >= threshold):

    kind, status ("ok" or "failed"), error (null, or why it failed), warnings [str]
    threshold                            picked on the val split only
    train_seconds, score_seconds, score_fps    cost: training wall time; test frames scored per second
    frames, positives                    test frames with a known label, and the anomalous ones among them
    frame_auc                            ROC-AUC over all test frames pooled (micro)
    frame_auc_macro                      mean of per-video ROC-AUCs (videos with one class skipped)
    frame_ap                             average precision, pooled
    accuracy, precision, recall, f1      at the threshold, anomaly class
    normal_precision, normal_recall, normal_f1    the same for the normal class (the origin report's form)
    confusion {tp, fp, tn, fn}           frame counts
    false_alarms_per_hour                runs of flagged normal frames per hour of normal footage
    video_auc, video_f1, video_accuracy, video_precision, video_recall,
    video_normal_precision, video_normal_recall, video_normal_f1,
    video_confusion {tp, fp, tn, fn}     video level: a video's score is its maximum frame score
    events {intervals, found, missed, false_events, false_events_per_hour,
            mean_latency_seconds, median_latency_seconds, flight_hours, false_events_per_flight_hour}
                                         a labelled interval is found when a flagged event overlaps it;
                                         latency is from its start to the first flagged frame;
                                         false_events overlap no labelled interval, false_events_per_hour
                                         divides them by the hours of normal frames, and
                                         false_events_per_flight_hour by flight_hours, the total length of
                                         the evaluated test videos
    per_class {<class>: {frames, recall, intervals, found}}    frame recall and intervals found per class
    per_size {<bucket>: {frames, recall}}    frame recall by the anomaly's share of the frame
                                         (buckets "<0.1%", "0.1-0.5%", "0.5-2%", ">2%", "not visible")
    large_anomalies {min_area_fraction, frames, positives, frame_auc, precision, recall, f1, confusion}
                                         normal frames plus anomalous frames covering >= min_area_fraction
                                         of the frame (null where no ground truth masks exist)
    pixel_auc                            ROC-AUC of heatmap pixels against ground-truth masks, or null

OBJECT LEVEL (version 2). An object-interval is one labelled object's contiguous appearance (identities across
frames derived from the ground truth, detection.evaluation.objects); it is found when a flagged event overlaps
it in time, the rule `events` uses for intervals. Without ground-truth masks a labelled interval counts as one
object of unknown size. Each row is {objects, found, recall}; recall is found / objects, null over 0 objects.

    object_recall {objects, found, recall, sized_objects}    all object-intervals; sized_objects have a size
    per_object_size {"<16", "16-32", "32-64", "64-128", ">128": row}    always all five buckets; an object's
                                         size is sqrt(its mask's pixel area) at the video's NATIVE
                                         resolution (not the analysis size), the median over its frames;
                                         a bucket holds sizes from its low edge (inclusive) to its high edge
                                         (exclusive): 16.0 is "16-32", 128.0 is ">128"
    per_object_class {<class>: row}      every class with test objects, and "vanished" always (the objects
                                         missing from a flight that the reference flights showed)
    levels {zero, normal_median, normal_p99, normal_at_or_above_1, anomalous_median}
                                         the test frames on the web app's level scale (detection.levels):
                                         zero is the score of level 0 (the trainer's median normal validation
                                         score; null: 0), level 1 is the threshold; added within version 2
    everyday_objects {sightings, flagged_frames, false_events, videos, near_metres}, or null
                                         the area's fixtures (moored boats, parked cars: there on every
                                         flight, so normal) on test videos with telemetry: frames with one in
                                         view, flagged frames whose heatmap peak is within near_metres of one
                                         (off any labelled object), false events peaking there
                                         (detection.evaluation.everyday); added within version 2
"""

from __future__ import annotations

SCHEMA_VERSION = 2

TOP_LEVEL_KEYS = ("schema_version", "manifest", "created", "settings", "splits", "detectors")

CONFUSION_KEYS = ("tp", "fp", "tn", "fn")
EVENT_KEYS = (
    "intervals",
    "found",
    "missed",
    "false_events",
    "false_events_per_hour",
    "mean_latency_seconds",
    "median_latency_seconds",
    "flight_hours",
    "false_events_per_flight_hour",
)
OBJECT_RECALL_KEYS = ("objects", "found", "recall", "sized_objects")
# The test frames on the level scale (detection.levels): how alike the scale reads across detector kinds.
LEVEL_KEYS = ("zero", "normal_median", "normal_p99", "normal_at_or_above_1", "anomalous_median")
LARGE_ANOMALY_KEYS = (
    "min_area_fraction",
    "frames",
    "positives",
    "frame_auc",
    "precision",
    "recall",
    "f1",
    "confusion",
)

DETECTOR_KEYS = (
    "kind",
    "status",
    "error",
    "warnings",
    "threshold",
    "train_seconds",
    "score_seconds",
    "score_fps",
    "frames",
    "positives",
    "frame_auc",
    "frame_auc_macro",
    "frame_ap",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "normal_precision",
    "normal_recall",
    "normal_f1",
    "confusion",
    "false_alarms_per_hour",
    "video_auc",
    "video_f1",
    "video_accuracy",
    "video_precision",
    "video_recall",
    "video_normal_precision",
    "video_normal_recall",
    "video_normal_f1",
    "video_confusion",
    "events",
    "per_class",
    "per_size",
    "large_anomalies",
    "pixel_auc",
    "object_recall",
    "per_object_size",
    "per_object_class",
    "levels",
    "everyday_objects",
)


def empty_detector_entry(kind: str) -> dict:
    """A detector entry with every key present and every number null (the form of a failed detector)."""
    entry: dict = dict.fromkeys(DETECTOR_KEYS)
    entry.update(kind=kind, status="failed", warnings=[], per_class={}, per_size={})
    entry.update(per_object_size={}, per_object_class={}, object_recall=dict.fromkeys(OBJECT_RECALL_KEYS))
    entry["confusion"] = dict.fromkeys(CONFUSION_KEYS)
    entry["video_confusion"] = dict.fromkeys(CONFUSION_KEYS)
    entry["events"] = dict.fromkeys(EVENT_KEYS)
    entry["levels"] = dict.fromkeys(LEVEL_KEYS)
    return entry
