"""`report.html`: one self-contained page with Plotly ROC and PR curves, per-video score timelines, tables.

plotly.js is inlined from the installed plotly package (include_plotlyjs=True, once, in the first figure),
never fetched from a CDN: the page opens offline and from an archive. Timelines draw each detector's frame
scores on its own row with its threshold dashed and the labelled intervals shaded.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from detection.evaluation import report_md

MAX_TIMELINES = 40  # videos drawn; the rest are listed, so that the page stays light


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table with escaped cells."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def roc_figure(curves: dict, detectors: dict) -> go.Figure:
    figure = go.Figure()
    for name, points in curves.items():
        if points["roc"]:
            auc = report_md.fmt_number(detectors[name]["frame_auc"])
            figure.add_scatter(
                x=points["roc"]["fpr"], y=points["roc"]["tpr"], mode="lines", name=f"{name} (AUC {auc})"
            )
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "grey"}, name="chance")
    figure.update_layout(
        title="Frame-level ROC (test split)",
        xaxis_title="false positive rate",
        yaxis_title="true positive rate",
    )
    return figure


def pr_figure(curves: dict, detectors: dict) -> go.Figure:
    figure = go.Figure()
    for name, points in curves.items():
        if points["pr"]:
            ap = report_md.fmt_number(detectors[name]["frame_ap"])
            figure.add_scatter(
                x=points["pr"]["recall"], y=points["pr"]["precision"], mode="lines", name=f"{name} (AP {ap})"
            )
    figure.update_layout(
        title="Frame-level precision-recall (test split)", xaxis_title="recall", yaxis_title="precision"
    )
    return figure


def _timelines_by_video(curves: dict) -> dict[str, dict[str, dict]]:
    videos: dict[str, dict[str, dict]] = {}
    for name, points in curves.items():
        for timeline in points["timelines"]:
            videos.setdefault(timeline["video_id"], {})[name] = timeline
    return videos


def timeline_figure(video_id: str, by_detector: dict[str, dict], detectors: dict) -> go.Figure:
    """One video: a row per detector with its scores, its threshold and the labelled intervals."""
    names = list(by_detector)
    figure = make_subplots(
        rows=len(names), cols=1, shared_xaxes=True, subplot_titles=names, vertical_spacing=0.04
    )
    for row, name in enumerate(names, start=1):
        timeline = by_detector[name]
        figure.add_scatter(x=timeline["times"], y=timeline["scores"], mode="lines", name=name, row=row, col=1)
        figure.add_hline(
            y=detectors[name]["threshold"], line={"dash": "dash", "color": "red"}, row=row, col=1
        )
        for start, end, anomaly_class in timeline["intervals"]:
            figure.add_vrect(
                x0=start,
                x1=end,
                fillcolor="orange",
                opacity=0.25,
                line_width=0,
                row=row,
                col=1,
                annotation_text=anomaly_class if row == 1 else None,
            )
    figure.update_layout(
        title=f"{video_id}: frame scores (dashed: threshold; shaded: labelled anomalies)",
        height=160 * len(names) + 80,
        showlegend=False,
    )
    figure.update_xaxes(title_text="seconds", row=len(names), col=1)
    return figure


def render_html(document: dict, curves: dict) -> str:
    """The whole page for a metrics.json document and the runner's curves."""
    detectors = document["detectors"]
    ok = {name: points for name, points in curves.items() if detectors[name]["status"] == "ok"}
    figures = [roc_figure(ok, detectors), pr_figure(ok, detectors)]
    videos = _timelines_by_video(ok)
    for video_id in list(videos)[:MAX_TIMELINES]:
        figures.append(timeline_figure(video_id, videos[video_id], detectors))
    plots = [
        figure.to_html(full_html=False, include_plotlyjs=(index == 0), default_height="480px")
        for index, figure in enumerate(figures)
    ]
    left_out = len(videos) - MAX_TIMELINES
    sections = [
        ("Frame level and cost", report_md.summary_table(detectors, render=html_table)),
        (
            "Frame level, both classes (the origin report's form)",
            report_md.origin_form_table(detectors, render=html_table),
        ),
        ("Video level", report_md.origin_form_table(detectors, prefix="video_", render=html_table)),
        ("Events", report_md.events_table(detectors, render=html_table)),
        ("Everyday objects (never to be flagged)", report_md.everyday_table(detectors, render=html_table)),
        ("Recall per anomaly class", report_md.per_class_table(detectors, render=html_table)),
        ("Recall per anomaly size", report_md.per_size_table(detectors, render=html_table)),
        ("Objects found per size (native pixels)", report_md.object_size_table(detectors, render=html_table)),
        ("Objects found per class", report_md.object_class_table(detectors, render=html_table)),
    ]
    failed = [
        f"<li><b>{html.escape(n)}</b>: {html.escape(str(e['error']))}</li>"
        for n, e in detectors.items()
        if e["status"] != "ok"
    ]
    body = [
        "<h1>Evaluation report</h1>",
        f"<p>Manifest <code>{html.escape(document['manifest'])}</code>, created {html.escape(document['created'])}. "
        "Thresholds chosen on the val split; every number is on the test split.</p>",
        *(f"<h2>{html.escape(title)}</h2>{content}" for title, content in sections),
        f"<h2>Failed detectors</h2><ul>{''.join(failed) or '<li>none</li>'}</ul>",
        "<h2>Curves</h2>",
        *plots[:2],
        "<h2>Score timelines</h2>",
        *plots[2:],
        f"<p>{left_out} more test videos are not drawn.</p>" if left_out > 0 else "",
    ]
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Evaluation report</title>'
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>"
    )
