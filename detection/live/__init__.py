"""Live streams: read a drone's feed as it arrives, record it to segments, sample and score it on the fly.

`reader.LiveReader` is a thread that demuxes and decodes the feed, keeps only the newest sampled frames (so the
scorer never falls behind the stream) and reconnects with backoff, recording each gap; `recorder` writes the
incoming packets to MPEG-TS segments without re-encoding and assembles them into one MP4; `scoring` scores
sampled frames one at a time with a loaded CAE and opens and closes alerts as they happen; `change`
compares the newest frame with a CHANGE detector's reference flights in its own thread.
Framework-free like the rest of `detection`.
"""
