"""Evaluation: every detector and baseline trained on train, thresholded on val, measured on test.

`python -m detection evaluate MANIFEST --detectors cae,mil,iforest,nearest,patchcore --out DIR` writes
metrics.json (schema in `schema`), report.md and report.html.
"""
