"""The evaluation's files: metrics.json, report.md tables and a self-contained report.html."""

import json
import re

from plotly.offline import get_plotlyjs_version

from detection.evaluation.cli import write_outputs
from detection.evaluation.runner import DetectorSpec, evaluate
from tests.support.evaluation import RECORDS, evaluation_settings, frame_loader, spy_trainer


def _outputs(tmp_path):
    result = evaluate(
        RECORDS,
        evaluation_settings(DetectorSpec("spy", "spy"), DetectorSpec("broken", "broken")),
        load_frames=frame_loader(),
        trainers={"spy": spy_trainer([]), "broken": lambda *a, **k: 1 / 0},
        show_progress=False,
    )
    write_outputs(tmp_path, result)
    return tmp_path


def test_reports_hold_the_numbers_the_failure_and_inlined_plotly(tmp_path):
    out = _outputs(tmp_path)
    metrics = json.loads((out / "metrics.json").read_text())
    spy = metrics["detectors"]["spy"]

    markdown = (out / "report.md").read_text()
    assert "| detector | frame AUC |" in markdown
    assert f"| spy | {spy['frame_auc']:.3f} |" in markdown
    assert "anomaly P" in markdown and "normal F1" in markdown  # the origin report's form
    assert "**broken** failed: ZeroDivisionError" in markdown
    assert "ZeroDivisionError" in (out / "errors.log").read_text()

    page = (out / "report.html").read_text()
    assert f"plotly.js v{get_plotlyjs_version()}" in page
    assert not re.search(r"<script[^>]+src=", page), "plotly.js must be inlined, not loaded from elsewhere"
    assert len(page) > 1_000_000  # the plotly.js bundle itself is in the page
    assert page.count("Plotly.newPlot") == 2 + 2  # ROC, PR, and one timeline per test video
    assert page.count("frame scores (dashed: threshold") == 2


def test_reports_list_objects_per_native_size_and_per_class_beside_the_all_frames_auc(tmp_path):
    out = _outputs(tmp_path)
    spy = json.loads((out / "metrics.json").read_text())["detectors"]["spy"]
    markdown = (out / "report.md").read_text()
    size_section = markdown.split("## Objects found per size (native pixels)")[1].split("##")[0]
    # the in-memory videos have no masks: their one box is an object of unknown size, in no bucket
    assert "(0 of 1 objects have a mask)" in size_section and "| <16 px | 0 | – |" in size_section
    class_section = markdown.split("## Objects found per class")[1].split("##")[0]
    assert "| box | 1 | 100.0% (1/1) |" in class_section and "| vanished | 0 | – |" in class_section
    assert f"| frame AUC, all test frames |  | {spy['frame_auc']:.3f} |" in class_section
    assert "false events/flight h" in markdown
    page = (out / "report.html").read_text()
    assert "Objects found per size (native pixels)" in page and "<td>vanished</td><td>0</td>" in page
