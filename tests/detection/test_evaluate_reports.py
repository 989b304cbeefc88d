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
