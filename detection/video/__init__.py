"""Video ingest: probe, timestamp-based frame sampling, parallel ranges, browser proxy, thumbnails, cache.

Everything decodes with PyAV, lazily and inside context managers, and raises `detection.errors.VideoError`
with a plain message for a file that cannot be used. Memory stays bounded whatever the video's length:
frames stream to `.npy` files on disk and come back as memory maps.
"""
