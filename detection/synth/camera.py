"""The camera model: a nadir-looking camera whose frame maps to the world by a rotation, a scale and a shift.

A pose is (x, y, heading, gsd): the world point under the frame centre, the world direction of the frame's
up (radians, world x right and y down), and world pixels per frame pixel (grows with altitude).
"""

from __future__ import annotations

import numpy as np

Pose = tuple[float, float, float, float]


def frame_to_world(pose: Pose, u: np.ndarray, v: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """World (x, y) of frame pixel coordinates (u across, v down) for a frame of `size` (height, width)."""
    x, y, heading, gsd = pose
    height, width = size
    du = (u - (width - 1) / 2) * gsd
    dv = (v - (height - 1) / 2) * gsd
    cos, sin = np.cos(heading), np.sin(heading)
    # Frame right is world (-sin, cos); frame down is minus the heading direction (cos, sin).
    return x - du * sin - dv * cos, y + du * cos - dv * sin


def world_to_frame(pose: Pose, wx, wy, size: tuple[int, int]):
    """Frame (u, v) of world points: the inverse of `frame_to_world`."""
    x, y, heading, gsd = pose
    height, width = size
    dx, dy = np.asarray(wx) - x, np.asarray(wy) - y
    cos, sin = np.cos(heading), np.sin(heading)
    return (-dx * sin + dy * cos) / gsd + (width - 1) / 2, -(dx * cos + dy * sin) / gsd + (height - 1) / 2


def view_grid(pose: Pose, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """World coordinates of every frame pixel: two (height, width) float32 arrays."""
    height, width = size
    v, u = np.mgrid[0:height, 0:width].astype(np.float32)
    wx, wy = frame_to_world(pose, u, v, size)
    return wx.astype(np.float32), wy.astype(np.float32)
