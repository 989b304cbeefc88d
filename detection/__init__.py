"""Skerry's ML library: PyAV decoding, synthetic patrols, manifests, the CAE and MIL detectors, metrics.

Framework-free: paths, arrays, tensors and frozen dataclasses in and out. Never imports Django or Celery.
"""
