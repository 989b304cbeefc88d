"""Temporal alignment: which reference frames show the place each of today's frames shows.

With telemetry, the nearest reference frames in position (`match_by_pose`). Without it, visual retrieval on
cheap global descriptors (`frame_descriptors`) constrained by time (`match_by_descriptors`): a flight over the
same route passes its places in order, so the matches with one reference flight must form a monotone path
through its frames (either direction, at any speed, with stretches skipped), found by dynamic programming.
Frames no reference covers get no candidate and score as "no reference", never as an alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class Matches:
    """For each of today's N frames, K candidate reference frames, best first.

    `reference` (N, K) int indexes the reference flights' frames concatenated in the order given, -1 where
    there is no candidate; `similarity` (N, K) float32 says how good each candidate is (higher is better, on a
    scale each matcher documents); `no_reference` (N,) bool marks the frames with no candidate at all.
    """

    reference: np.ndarray
    similarity: np.ndarray
    no_reference: np.ndarray


# ---------------------------------------------------------------------------------------------------------
# Descriptors


@dataclass(frozen=True)
class DescriptorSettings:
    """The polar grid the descriptor samples: a disc inscribed in the frame, `rings` by `angles` cells."""

    disc: int = 64  # the frame is shrunk so that the inscribed disc is this many pixels across
    rings: int = 10
    angles: int = 32
    harmonics: int = 6  # angular Fourier harmonics kept per ring


def frame_descriptors(frames: np.ndarray, *, settings: DescriptorSettings = DescriptorSettings()) -> np.ndarray:
    """(N, D) float32 unit-length global descriptors of (N, H, W, 3) uint8 RGB frames, for retrieval.

    Each frame is turned into a few maps that the light and weather change little (local contrast, fine detail,
    and chromaticity less the frame's mean, so that a colour cast drops out), sampled on a polar grid of the
    disc inscribed in the frame, and described by the magnitudes of each ring's angular Fourier harmonics and
    the phase-aligned products of neighbouring rings: turning the camera about the frame centre, by any angle,
    only shifts the grid's angles, which leaves these unchanged.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (N, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    polar = np.stack([_polar_maps(frame, settings) for frame in frames]) if len(frames) else None
    if polar is None:
        return np.zeros((0, _descriptor_length(settings)), np.float32)
    return _rotation_invariants(polar, settings)


def _descriptor_length(settings: DescriptorSettings) -> int:
    per_channel = settings.rings * settings.harmonics + 2 * (settings.rings - 1) * (settings.harmonics - 1)
    return 4 * per_channel


def _polar_maps(frame: np.ndarray, settings: DescriptorSettings) -> np.ndarray:
    """(4, angles, rings) float32: the frame's invariant-ish maps sampled on the polar grid."""
    height, width = frame.shape[:2]
    scale = settings.disc / min(height, width)
    small = cv2.resize(frame, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA).astype(np.float32) + 1.0
    grey = small.mean(axis=2)
    sigma = settings.disc / (2 * settings.rings)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), sigma)
    contrast = np.sqrt(np.maximum(cv2.GaussianBlur(detail * detail, (0, 0), sigma), 0))
    maps = [contrast / (contrast.mean() + 1e-6), detail / (detail.std() + 1e-6)]
    log_rgb = np.log(small)
    for chroma in (log_rgb[..., 0] - log_rgb[..., 1], log_rgb[..., 2] - log_rgb[..., 1]):
        maps.append(chroma - chroma.mean())
    stacked = cv2.GaussianBlur(np.dstack(maps), (0, 0), sigma / 2)
    centre = ((small.shape[1] - 1) / 2, (small.shape[0] - 1) / 2)
    polar = cv2.warpPolar(stacked, (settings.rings, settings.angles), centre, settings.disc / 2,
                          cv2.INTER_LINEAR | cv2.WARP_POLAR_LINEAR)  # (angles, rings, 4)
    return polar.transpose(2, 0, 1)


def _rotation_invariants(polar: np.ndarray, settings: DescriptorSettings) -> np.ndarray:
    """(N, D) descriptors from (N, C, angles, rings) polar maps: ring spectra magnitudes and the products of
    neighbouring rings' spectra (a rotation multiplies harmonic m of every ring by the same phase, which these
    cancel), power-normalised per block, then L2-normalised."""
    spectrum = np.fft.rfft(polar, axis=2)[:, :, : settings.harmonics]  # (N, C, M, R) complex
    magnitude = np.abs(spectrum)
    cross = spectrum[:, :, 1:, 1:] * np.conj(spectrum[:, :, 1:, :-1])  # (N, C, M-1, R-1)
    count = len(polar)
    parts = [magnitude.reshape(count, -1), cross.real.reshape(count, -1), cross.imag.reshape(count, -1)]
    parts = [_unit(np.sign(p) * np.sqrt(np.abs(p))) for p in parts]
    return _unit(np.concatenate(parts, axis=1)).astype(np.float32)


def _unit(values: np.ndarray) -> np.ndarray:
    return values / (np.linalg.norm(values, axis=1, keepdims=True) + 1e-12)


# ---------------------------------------------------------------------------------------------------------
# Matching by telemetry


def match_by_pose(today_poses: np.ndarray, reference_poses: list[np.ndarray], *, k: int,
                  max_distance: float) -> Matches:
    """The k nearest reference frames in ground position for each of today's frames, one per reference flight.

    Poses are (N, 3) [east_m, north_m, altitude_m] (or (N, 2) without altitude). Only east and north count:
    an altitude difference changes the scale of the view, which the spatial alignment absorbs, not the place.
    Taking the nearest frame of each flight makes the k candidates come from k different days. A candidate
    further than `max_distance` metres is dropped; `similarity` is 1 - distance / max_distance (1 = same place).
    """
    today = _ground(today_poses, "today_poses")
    distance, index = _nearest_per_flight(today, [_ground(p, "reference pose") for p in reference_poses])
    similarity = (1.0 - distance / max_distance).astype(np.float32)
    index[distance > max_distance] = -1
    return _top_candidates(index, similarity, k)


def _ground(poses: np.ndarray, name: str) -> np.ndarray:
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 2 or poses.shape[1] not in (2, 3):
        raise ValueError(f"{name} must be (N, 3) [east, north, altitude] or (N, 2), got shape {poses.shape}")
    if not np.all(np.isfinite(poses[:, :2])):
        raise ValueError(f"{name} has positions that are not finite numbers")
    return poses[:, :2]


def _nearest_per_flight(today: np.ndarray, flights: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(N, F) distance to and global index of the nearest frame of each flight (inf and -1 for an empty one)."""
    distance = np.full((len(today), len(flights)), np.inf)
    index = np.full((len(today), len(flights)), -1, dtype=np.int64)
    offset = 0
    for f, flight in enumerate(flights):
        if len(flight) and len(today):
            distance[:, f], nearest = cKDTree(flight).query(today, k=1)
            index[:, f] = offset + nearest
        offset += len(flight)
    return distance, index


def _top_candidates(index: np.ndarray, similarity: np.ndarray, k: int) -> Matches:
    """Matches keeping, per frame, the k most similar of the (N, F) per-flight candidates (-1 = none)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    score = np.where(index >= 0, similarity, -np.inf)
    order = np.argsort(-score, axis=1, kind="stable")[:, :k]  # (N, min(k, F))
    chosen = np.take_along_axis(index, order, axis=1)
    chosen_similarity = np.take_along_axis(similarity, order, axis=1).astype(np.float32)
    reference = np.full((len(index), k), -1, dtype=np.int64)
    scores = np.zeros((len(index), k), dtype=np.float32)
    reference[:, : chosen.shape[1]] = chosen
    scores[:, : chosen.shape[1]] = np.where(chosen >= 0, chosen_similarity, 0)
    return Matches(reference, scores, (reference < 0).all(axis=1))


# ---------------------------------------------------------------------------------------------------------
# Matching by appearance and time


@dataclass(frozen=True)
class PathSettings:
    """The monotone path through one reference flight.

    Similarities are standardised (how far a pair stands out from the other frames of both flights, in
    standard deviations, see `_standardised`): a frame on the path earns its standardised similarity
    less `gap`, a frame left off the path earns nothing, so only frames that stand out by more than `gap` are
    worth matching; a frame whose cosine similarity is below `min_similarity` is never matched, however much
    it stands out from a flight that shows nothing like it. The reference may advance 0 to `max_step` frames per frame of today (a speed ratio up to
    `max_step`); a longer jump forward (a stretch one flight skipped) costs `jump_cost`. A run of at most
    `max_fill` of today's frames left off the path between two path frames, where the reference advanced at a
    speed the path allows, is on the path after all (see `_fill_gaps`).
    """

    gap: float = 1.5
    min_similarity: float = 0.25
    max_step: int = 3
    jump_cost: float = 4.0
    max_fill: int = 6


_NEVER = -1e9  # the gain of a pair that must not be matched: finite, so that path sums stay comparable


def match_by_descriptors(today: np.ndarray, references: list[np.ndarray], *, k: int,
                         settings: PathSettings = PathSettings(), causal: bool = False) -> Matches:
    """Candidates for today's frames from the reference flights, by appearance constrained by time.

    `today` (N, D) and each of `references` (M_i, D) are `frame_descriptors` of the flights' frames in time
    order. For each reference flight, the best monotone path (forward, or backward for a flight flown the other
    way) through its frames is found with open start and end, so a different start time, a different speed and
    a stretch skipped by either flight are allowed; today's frames off the path get no candidate from that
    flight. The k flights whose path frames are most similar are each frame's candidates; `similarity` is the
    cosine similarity of the descriptors after removing the references' mean descriptor.

    `causal`: today's frames are the flight so far (a live stream), so its newest frames have no later frame to
    close a gap: a short run of off-path frames at the end continues the path at its recent pace
    (`_extend_end`), as `_fill_gaps` fills a run between two path frames.
    """
    today, references = _centred(today, references)
    index = np.full((len(today), len(references)), -1, dtype=np.int64)
    similarity = np.zeros((len(today), len(references)), dtype=np.float32)
    offset = 0
    for f, flight in enumerate(references):
        if len(flight) and len(today):
            cosine = today @ flight.T  # (N, M)
            standing = _standardised(cosine, rows_only=causal and not _column_informative(len(today), settings))
            gain = np.where(cosine >= settings.min_similarity, standing - settings.gap, _NEVER)
            path = _fill_gaps(_best_path(gain, settings), settings)
            if causal:
                path = _extend_end(path, len(flight), settings)
            on_path = path >= 0
            index[on_path, f] = offset + path[on_path]
            similarity[on_path, f] = cosine[on_path, path[on_path]]
        offset += len(flight)
    return _top_candidates(index, similarity, k)


def _centred(today: np.ndarray, references: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Descriptors less the references' mean, re-normalised: what every frame of the route shares (the
    route's general look) carries no information about which place a frame shows."""
    today = np.asarray(today, dtype=np.float32)
    references = [np.asarray(r, dtype=np.float32) for r in references]
    widths = {today.shape[1]} | {r.shape[1] for r in references if r.ndim == 2}
    if today.ndim != 2 or len(widths) != 1 or any(r.ndim != 2 for r in references):
        raise ValueError("descriptors must be 2-D arrays (frames, D) of one width D, got today "
                         f"{today.shape} and references {[r.shape for r in references]}")
    pooled = np.concatenate(references) if references else today
    mean = pooled.mean(axis=0) if len(pooled) else 0.0
    return _unit(today - mean), [_unit(r - mean) for r in references]


def _column_informative(rows: int, settings: PathSettings) -> bool:
    """Whether a column of `rows` of today's frames can say that one of them stands out by more than the path's
    `gap`. Among n values none lies more than (n - 1) / sqrt(n) population standard deviations above their
    mean, so with few frames (a live flight's first seconds: 4 or fewer for a gap of 1.5) no pair can pass on
    the column's side, however well it matches: the column cannot tell yet, so it is not asked."""
    return (rows - 1) / np.sqrt(max(rows, 1)) > settings.gap


def _standardised(cosine: np.ndarray, *, rows_only: bool = False) -> np.ndarray:
    """(N, M) similarities as standard deviations above the mean of their row and of their column, the smaller
    of the two: a pair is a match only if each frame stands out for the other (a frame of today that no
    reference frame shows still has a most similar one, but it does not stand out from that frame's column).
    `rows_only`: the row's side alone, for a live flight whose few frames so far make no column
    (`_column_informative`): each frame is matched where the reference flight's frame stands out for it."""

    def above_mean(axis):
        spread = np.maximum(cosine.std(axis=axis, keepdims=True), 1e-6)
        return (cosine - cosine.mean(axis=axis, keepdims=True)) / spread

    if rows_only:
        return above_mean(1)
    return np.minimum(above_mean(1), above_mean(0))


def _best_path(gain: np.ndarray, settings: PathSettings) -> np.ndarray:
    """(N,) reference frame of each of today's frames on the best monotone path through the (N, M) gains, -1
    off the path; the better of the forward path and the backward one (a flight flown the other way)."""
    forward, forward_total = _monotone_path(gain, settings)
    backward, backward_total = _monotone_path(gain[:, ::-1], settings)
    if backward_total > forward_total:
        return np.where(backward >= 0, gain.shape[1] - 1 - backward, -1)
    return forward


def _fill_gaps(path: np.ndarray, settings: PathSettings) -> np.ndarray:
    """`path` with each short run of off-path frames between two path frames given the reference frames in
    between (linearly). The flight passed those places: a frame falls off the path when what it shows today
    differs from the reference (a large new object changes the global descriptor), which is exactly the frame
    that must be compared, not reported as "no reference". A run longer than `max_fill`, or one across which
    the reference jumped (a skipped stretch), stays off the path."""
    path = path.copy()
    matched = np.flatnonzero(path >= 0)
    for first, last in zip(matched[:-1], matched[1:]):
        span = int(last - first)
        advance = int(path[last] - path[first])
        if 1 < span <= settings.max_fill + 1 and abs(advance) <= settings.max_step * span:
            steps = np.arange(1, span) / span
            path[first + 1 : last] = np.rint(path[first] + advance * steps).astype(np.int64)
    return path


def _extend_end(path: np.ndarray, length: int, settings: PathSettings, pace_frames: int = 4) -> np.ndarray:
    """`path` with a run of at most `max_fill` off-path frames at its end given the reference frames the path
    would reach at its pace over its last `pace_frames` path frames (clipped to the flight's `length`: past
    its end there is no reference). The causal form of `_fill_gaps`: in a live stream a new object that
    pushes the newest frames off the path must be compared, and no later frame will close the gap."""
    path = path.copy()
    matched = np.flatnonzero(path >= 0)
    if len(matched) < 2:
        return path
    last = int(matched[-1])
    run = len(path) - 1 - last
    if not 0 < run <= settings.max_fill:
        return path
    first = int(matched[max(0, len(matched) - pace_frames)])
    pace = (path[last] - path[first]) / (last - first)
    extended = np.rint(path[last] + pace * np.arange(1, run + 1)).astype(np.int64)
    path[last + 1 :] = np.where((extended >= 0) & (extended < length), extended, -1)
    return path


def _monotone_path(gain: np.ndarray, settings: PathSettings) -> tuple[np.ndarray, float]:
    """Viterbi over the states "today's frame i is matched to reference frame j" and "frame i is off the path,
    the last match was at j or before", with open start and end. Returns the path (N,) and its total gain."""
    count, length = gain.shape
    positions = np.arange(length)
    matched, skipped = gain[0].copy(), np.zeros(length)
    came_from = np.zeros((count, length), dtype=np.int64)  # matched state's predecessor, encoded below
    stayed_matched = np.zeros((count, length), dtype=bool)  # off-path state: came from matched (else off-path)
    for i in range(1, count):
        best = np.maximum(matched, skipped)
        origin = np.where(matched >= skipped, positions, positions + length)  # state code: j or length + j
        near_value, near_origin = _window_max(best, origin, settings.max_step)
        far_value, far_origin = _prefix_max(best, origin, settings.max_step + 1)
        use_far = far_value - settings.jump_cost > near_value
        came_from[i] = np.where(use_far, far_origin, near_origin)
        stayed_matched[i] = matched >= skipped
        matched = gain[i] + np.where(use_far, far_value - settings.jump_cost, near_value)
        skipped = best
    return _backtrack(matched, skipped, came_from, stayed_matched)


def _window_max(values: np.ndarray, origin: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """For each j, the largest of values[j - width .. j] and the origin code at it."""
    shifted = np.full((width + 1, len(values)), -np.inf)
    codes = np.zeros((width + 1, len(values)), dtype=np.int64)
    for step in range(width + 1):
        shifted[step, step:] = values[: len(values) - step]
        codes[step, step:] = origin[: len(values) - step]
    pick = shifted.argmax(axis=0)
    columns = np.arange(len(values))
    return shifted[pick, columns], codes[pick, columns]


def _prefix_max(values: np.ndarray, origin: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """For each j, the largest of values[0 .. j - lag] and the origin code at it (-inf where there is none)."""
    running = np.maximum.accumulate(values)
    positions = np.maximum.accumulate(np.where(values >= running, np.arange(len(values)), 0))
    value = np.full(len(values), -np.inf)
    code = np.zeros(len(values), dtype=np.int64)
    value[lag:] = running[: len(values) - lag]
    code[lag:] = origin[positions[: len(values) - lag]]
    return value, code


def _backtrack(matched, skipped, came_from, stayed_matched) -> tuple[np.ndarray, float]:
    count, length = came_from.shape
    path = np.full(count, -1, dtype=np.int64)
    on_path = bool(matched.max() >= skipped.max())
    position = int(matched.argmax() if on_path else skipped.argmax())
    total = float(max(matched.max(), skipped.max()))
    for i in range(count - 1, -1, -1):
        if on_path:
            path[i] = position
            code = int(came_from[i, position])
        else:
            code = position if stayed_matched[i, position] else length + position
        on_path, position = code < length, code % length
    return path, total
