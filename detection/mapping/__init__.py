"""Maps from an area's own footage: where a frame pixel lies on the ground, and the area mosaic.

`camera` projects frame points to the ground from a drone pose (position, height, heading, gimbal pitch, field
of view); `placement` fuses the frame-to-frame registrations of a flight with its telemetry into one placement
per frame; `mosaic` blends the placed frames into one georeferenced image; `pyramid` stores it as a tiled
image pyramid with a `mosaic.json` that says where it lies. Nothing here knows Django.
"""
