"""Datasets: one manifest format (CSV) for any set of labelled videos, the split, and importers into it."""
