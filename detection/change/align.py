"""Spatial alignment of a frame pair: the homography that maps a reference frame onto today's view of a place.

Two flights over the same place never see it the same way: the heading (up to reversed), the altitude and the
sideways offset differ, and the light, cloud shadows and waves change. Keypoints are detected only where the
ground has texture (open water has no stable features: its keypoints would match waves of another day),
matched with a ratio test and fitted with a robust homography (a similarity when few matches agree), optionally
refined on the pixels by ECC. When too few keypoints agree, a shift from phase correlation, confirmed and refined
to a rotation and shift by ECC, is tried; a fit that is not a plausible change
of view (mirrored, sheared, scaled beyond a drone's altitude range, or barely overlapping) is reported as
"failed", never used. OpenCV does all of the registration.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Size = tuple[int, int]  # (width, height)

METHODS = ("features", "features+ecc", "phase", "failed")


@dataclass(frozen=True)
class Alignment:
    """Where a reference frame lies in today's frame.

    `homography` (3, 3) float64 maps a reference pixel (x, y, 1) to today's pixel, at the size of the images
    given to `align_pair`, or is None when the alignment failed. `inliers` counts the keypoint matches that
    agree with it (0 for phase correlation), `overlap` the fraction of today's frame the warped reference
    covers.
    """

    homography: np.ndarray | None
    method: str
    inliers: int
    overlap: float

    @property
    def ok(self) -> bool:
        return self.homography is not None and self.method != "failed"


FAILED = Alignment(None, "failed", 0, 0.0)


@dataclass(frozen=True)
class AlignSettings:
    """How a pair is aligned. Pixel values are at the working width: the pair is resized so that its width lies
    within [min_work_width, max_work_width] (keypoints at full drone resolution cost time and gain little;
    tiny frames are enlarged so that the keypoint patch leaves most of the frame usable)."""

    max_work_width: int = 640
    min_work_width: int = 320
    keypoints: str = "orb"  # "orb" (binary, fast) or "sift" (float, slower)
    max_keypoints: int = 2000
    ratio: float = 0.8  # Lowe's ratio test: a match must beat the second best by this factor
    min_inliers: int = 15  # fewer agreeing matches than this: fit a similarity instead of a homography
    min_similarity_inliers: int = 6  # fewer agreeing matches than this: fall back to phase correlation
    ransac_threshold: float = 3.0  # pixels of reprojection error for an inlier
    refine: bool = True  # refine a keypoint homography with ECC on the textured pixels
    ecc_width: int = 0  # ECC on a copy at most this wide (0: at the working width)
    ecc_iterations: int = 25
    ecc_max_shift: float = 0.02  # of the working width: an ECC result moving a corner further is not used
    texture_window: float = 0.02  # side of the local-contrast window, as a fraction of the working width
    min_texture: float = 3.0  # local standard deviation (grey levels) below which a pixel counts as featureless
    min_phase_response: float = 0.12  # phase correlation's peak share below which the shift is a guess
    min_overlap: float = 0.3  # a warped reference covering less of today's frame is a failure
    scale_range: tuple[float, float] = (0.5, 2.0)
    max_anisotropy: float = 1.3  # ratio of the homography's two singular values (shear and squash)
    max_perspective: float = 0.2  # change of the projective denominator across the frame

    def __post_init__(self):
        if self.keypoints not in ("orb", "sift"):
            raise ValueError(f"unknown keypoint detector {self.keypoints!r}: expected 'orb' or 'sift'")
        if not 0 < self.min_work_width <= self.max_work_width:
            raise ValueError("the working widths must satisfy 0 < min_work_width <= max_work_width, got "
                             f"{self.min_work_width} and {self.max_work_width}")


@dataclass(frozen=True)
class Keypoints:
    """A frame's keypoints at the working size (`work`, (W, H)) of a frame of `size` (W, H): positions (n, 2)
    float32 and descriptors (n, D) (uint8 for ORB, float32 for SIFT). Computed once per frame (for a reference
    frame: when it is indexed) and reused for every pair the frame is in."""

    size: Size
    work: Size
    points: np.ndarray
    descriptors: np.ndarray


def frame_keypoints(frame: np.ndarray, *, settings: AlignSettings = AlignSettings()) -> Keypoints:
    """The keypoints `align_pair` would find in `frame` ((H, W, 3) uint8 RGB or (H, W) uint8 grey)."""
    size = (frame.shape[1], frame.shape[0])
    work = _work_size(size, settings)
    return _keypoints(_grey(frame, work), size, settings)


def align_pair(today: np.ndarray, reference: np.ndarray, *, settings: AlignSettings = AlignSettings()) -> Alignment:
    """The homography from `reference` to `today`: (H, W, 3) uint8 RGB or (H, W) uint8 grey frames of one size.

    Keypoint matching first (with ECC refinement when `settings.refine`), phase correlation when too few
    keypoints agree, "failed" when neither gives a plausible view change.
    """
    return align_with_keypoints(today, reference, None, None, settings=settings)


def align_with_keypoints(today: np.ndarray, reference: np.ndarray, today_keypoints: Keypoints | None,
                         reference_keypoints: Keypoints | None, *,
                         settings: AlignSettings = AlignSettings()) -> Alignment:
    """`align_pair` with either frame's keypoints already computed (`frame_keypoints` with the same settings;
    None: computed here). The frames themselves are still needed for ECC and phase correlation."""
    if today.shape[:2] != reference.shape[:2]:
        raise ValueError(f"frames of different sizes: today {today.shape[:2]}, reference {reference.shape[:2]}")
    height, width = today.shape[:2]
    work = _work_size((width, height), settings)
    today_grey, reference_grey = _grey(today, work), _grey(reference, work)
    today_keypoints = _checked(today_keypoints, (width, height), work, "today's") or _keypoints(
        today_grey, (width, height), settings)
    reference_keypoints = _checked(reference_keypoints, (width, height), work, "the reference's") or _keypoints(
        reference_grey, (width, height), settings)
    alignment = _by_keypoints(today_grey, reference_grey, today_keypoints, reference_keypoints, settings)
    if alignment is None:
        alignment = _by_phase(today_grey, reference_grey, settings)
    if not alignment.ok:
        return alignment
    full = scale_homography(alignment.homography, work, (width, height))
    return Alignment(full, alignment.method, alignment.inliers, alignment.overlap)


def warp_reference(reference: np.ndarray, alignment: Alignment, size: Size) -> tuple[np.ndarray, np.ndarray]:
    """The reference resampled into today's pixel grid of `size` (W, H), and where it is valid.

    `reference` is (h, w) or (h, w, C) of any dtype OpenCV resamples (uint8 frames, float32 feature maps of
    many channels); the homography must be at the reference's and today's sizes (see `scale_homography`).
    Returns the warped array (H, W[, C]) of the same dtype, zero outside the reference, and a (H, W) bool mask
    of the pixels the reference covers fully; a failed alignment gives zeros and an empty mask.
    """
    width, height = size
    shape = (height, width) + reference.shape[2:]
    if not alignment.ok:
        return np.zeros(shape, reference.dtype), np.zeros((height, width), bool)
    warped = cv2.warpPerspective(reference, alignment.homography, size, flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    # Valid where interpolation drew on reference pixels only: the blend with the border is not the reference.
    inside = np.ones(reference.shape[:2], np.float32)
    coverage = cv2.warpPerspective(inside, alignment.homography, size, flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    valid = coverage > 0.999
    warped = warped.reshape(shape)
    warped[~valid] = 0
    return warped, valid


def scale_homography(h: np.ndarray, from_size: Size, to_size: Size) -> np.ndarray:
    """The same mapping for both images resized from `from_size` (W, H) to `to_size` (W, H).

    Pixel centres follow OpenCV's resize: x_to = (x_from + 0.5) * scale - 0.5.
    """
    sx, sy = to_size[0] / from_size[0], to_size[1] / from_size[1]
    resize = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]], dtype=np.float64)
    scaled = resize @ np.asarray(h, dtype=np.float64) @ np.linalg.inv(resize)
    return scaled / scaled[2, 2]


def texture_mask(grey: np.ndarray, settings: AlignSettings) -> np.ndarray:
    """(H, W) uint8 mask, 255 where the local contrast is high enough for stable keypoints.

    Open water, haze and flat fields have a low local standard deviation whatever their colour, so the mask
    needs no palette: a pixel counts as textured when the grey levels around it vary by `min_texture` or more.
    """
    side = max(3, int(round(settings.texture_window * grey.shape[1])) | 1)
    values = grey.astype(np.float32)
    mean = cv2.blur(values, (side, side))
    variance = cv2.blur(values * values, (side, side)) - mean * mean
    return np.where(variance >= settings.min_texture**2, 255, 0).astype(np.uint8)


def _work_size(size: Size, settings: AlignSettings) -> Size:
    width, height = size
    target = min(max(width, settings.min_work_width), settings.max_work_width)
    return target, max(1, int(round(height * target / width)))


def _grey(frame: np.ndarray, work: Size) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
    if grey.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {grey.dtype}")
    if (grey.shape[1], grey.shape[0]) == work:
        return grey
    shrink = work[0] < grey.shape[1]
    return cv2.resize(grey, work, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _detector(settings: AlignSettings):
    if settings.keypoints == "sift":
        return cv2.SIFT_create(nfeatures=settings.max_keypoints), cv2.NORM_L2
    return cv2.ORB_create(nfeatures=settings.max_keypoints), cv2.NORM_HAMMING


def _keypoints(grey: np.ndarray, size: Size, settings: AlignSettings) -> Keypoints:
    detector, norm = _detector(settings)
    points, descriptors = detector.detectAndCompute(grey, texture_mask(grey, settings))
    width = 32 if norm == cv2.NORM_HAMMING else 128
    if descriptors is None or not len(points):
        dtype = np.uint8 if norm == cv2.NORM_HAMMING else np.float32
        return Keypoints(size, (grey.shape[1], grey.shape[0]), np.empty((0, 2), np.float32), np.empty((0, width), dtype))
    positions = np.float32([p.pt for p in points]).reshape(-1, 2)
    return Keypoints(size, (grey.shape[1], grey.shape[0]), positions, descriptors)


def _checked(keypoints: Keypoints | None, size: Size, work: Size, whose: str) -> Keypoints | None:
    if keypoints is None:
        return None
    if tuple(keypoints.size) != tuple(size) or tuple(keypoints.work) != tuple(work):
        raise ValueError(f"{whose} keypoints were found on a {keypoints.size[0]}x{keypoints.size[1]} frame at "
                         f"{keypoints.work[0]}x{keypoints.work[1]}, but the frames are {size[0]}x{size[1]} aligned "
                         f"at {work[0]}x{work[1]}: compute them with the same settings")
    return keypoints


def _matched_points(today: Keypoints, reference: Keypoints, settings: AlignSettings):
    """Reference and today's points (M, 2) float32 of the keypoint matches that pass the ratio test."""
    if len(reference.points) < 2 or len(today.points) < 2:
        return np.empty((0, 2), np.float32), np.empty((0, 2), np.float32)
    _, norm = _detector(settings)
    pairs = cv2.BFMatcher(norm).knnMatch(reference.descriptors, today.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < settings.ratio * p[1].distance]
    source = reference.points[[m.queryIdx for m in good]].reshape(-1, 2)
    target = today.points[[m.trainIdx for m in good]].reshape(-1, 2)
    return source, target


def _by_keypoints(today: np.ndarray, reference: np.ndarray, today_keypoints: Keypoints,
                  reference_keypoints: Keypoints, settings: AlignSettings) -> Alignment | None:
    """A keypoint homography at the working size, or None when too few matches agree on a plausible one."""
    source, target = _matched_points(today_keypoints, reference_keypoints, settings)
    homography, inliers = _fit_homography(source, target, settings)
    if homography is None:
        return None
    size = (today.shape[1], today.shape[0])
    overlap = _plausible_overlap(homography, size, settings)
    if overlap is None:
        return None
    if settings.refine:
        refined = _refine_ecc(today, reference, homography, settings)
        refined_overlap = None if refined is None else _plausible_overlap(refined, size, settings)
        if refined_overlap is not None:
            return Alignment(refined, "features+ecc", inliers, refined_overlap)
    return Alignment(homography / homography[2, 2], "features", inliers, overlap)


def _fit_homography(source: np.ndarray, target: np.ndarray, settings: AlignSettings):
    """(homography, inliers) from matched points, or (None, 0): a full homography when enough matches agree,
    else a similarity (rotation, scale, shift: a nadir camera's change of view, which needs fewer matches),
    as on a frame of mostly water with a few rocks."""
    if len(source) >= max(4, settings.min_inliers):
        homography, mask = cv2.findHomography(source, target, cv2.USAC_MAGSAC, settings.ransac_threshold,
                                              maxIters=2000, confidence=0.999)
        if homography is not None and mask is not None and int(mask.sum()) >= settings.min_inliers:
            return homography, int(mask.sum())
    if len(source) < settings.min_similarity_inliers:
        return None, 0
    similarity, mask = cv2.estimateAffinePartial2D(source, target, method=cv2.RANSAC,
                                                   ransacReprojThreshold=settings.ransac_threshold,
                                                   maxIters=2000, confidence=0.999)
    if similarity is None or mask is None or int(mask.sum()) < settings.min_similarity_inliers:
        return None, 0
    return np.vstack([similarity, [0, 0, 1]]), int(mask.sum())


def _refine_ecc(today: np.ndarray, reference: np.ndarray, homography: np.ndarray,
                settings: AlignSettings) -> np.ndarray | None:
    """The keypoint homography refined by ECC on today's textured pixels (at most `ecc_width` wide), or None if
    ECC did not converge or moved a frame corner further than a refinement should."""
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, settings.ecc_iterations, 1e-5)
    size = (today.shape[1], today.shape[0])
    small = size
    if 0 < settings.ecc_width < size[0]:
        small = (settings.ecc_width, max(1, round(size[1] * settings.ecc_width / size[0])))
        today = cv2.resize(today, small, interpolation=cv2.INTER_AREA)
        reference = cv2.resize(reference, small, interpolation=cv2.INTER_AREA)
    # ECC warps its input (the reference) into the template's (today's) grid: it wants today -> reference.
    start = np.linalg.inv(scale_homography(homography, size, small)).astype(np.float32)
    try:
        _, warp = cv2.findTransformECC(today, reference, start, cv2.MOTION_HOMOGRAPHY, criteria,
                                       texture_mask(today, settings), 5)
    except cv2.error:
        return None
    refined = scale_homography(np.linalg.inv(warp.astype(np.float64)), small, size)
    refined /= refined[2, 2]
    if _corner_shift(homography / homography[2, 2], refined, (size[1], size[0])) > settings.ecc_max_shift * size[0]:
        return None
    return refined


def _corner_shift(first: np.ndarray, second: np.ndarray, shape: tuple[int, ...]) -> float:
    corners = _corners((shape[1], shape[0]))
    a = cv2.perspectiveTransform(corners, first)
    b = cv2.perspectiveTransform(corners, second)
    return float(np.linalg.norm(a - b, axis=-1).max())


def _by_phase(today: np.ndarray, reference: np.ndarray, settings: AlignSettings) -> Alignment:
    """A shift from phase correlation of the two frames' fine detail (light and shadows removed), confirmed
    and turned into a rotation and shift by ECC, or "failed" when its peak is not distinct or ECC disagrees."""
    window = cv2.createHanningWindow((today.shape[1], today.shape[0]), cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(_detail(reference), _detail(today), window)
    if not np.isfinite(response) or response < settings.min_phase_response:
        return FAILED
    homography = _confirm_shift(today, reference, dx, dy, settings)
    if homography is None:
        return FAILED
    overlap = _plausible_overlap(homography, (today.shape[1], today.shape[0]), settings)
    if overlap is None:
        return FAILED
    return Alignment(homography, "phase", 0, overlap)


def _confirm_shift(today: np.ndarray, reference: np.ndarray, dx: float, dy: float,
                   settings: AlignSettings) -> np.ndarray | None:
    """The phase-correlation shift refined by ECC as a rotation and shift, or None if ECC does not converge
    from it: a shift alone is wrong whenever the heading differs, and an unconfirmed peak may be a guess."""
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, settings.ecc_iterations, 1e-5)
    start = np.array([[1, 0, -dx], [0, 1, -dy]], dtype=np.float32)  # today -> reference, as ECC wants
    try:
        _, warp = cv2.findTransformECC(_detail(today), _detail(reference), start, cv2.MOTION_EUCLIDEAN, criteria,
                                       None, 5)
    except cv2.error:
        return None
    return np.linalg.inv(np.vstack([warp.astype(np.float64), [0, 0, 1]]))


def _detail(grey: np.ndarray) -> np.ndarray:
    """Grey levels less their large-scale component: the light level and cloud shadows differ between days."""
    values = grey.astype(np.float32)
    sigma = max(2.0, grey.shape[1] / 40)
    return values - cv2.GaussianBlur(values, (0, 0), sigma)


def _corners(size: Size) -> np.ndarray:
    width, height = size
    return np.float32([[0, 0], [width, 0], [width, height], [0, height]]).reshape(-1, 1, 2)


def _plausible_overlap(homography: np.ndarray, size: Size, settings: AlignSettings) -> float | None:
    """The share of today's frame covered by the warped reference, or None when the homography is not a
    plausible change of view between two nadir flights (mirrored, scaled out of range, sheared, strongly
    projective, or overlapping too little)."""
    h = np.asarray(homography, dtype=np.float64)
    if not np.all(np.isfinite(h)) or abs(h[2, 2]) < 1e-12:
        return None
    h = h / h[2, 2]
    linear = h[:2, :2]
    singular = np.linalg.svd(linear, compute_uv=False)
    scale = float(np.sqrt(singular[0] * singular[1]))
    width, height = size
    if (np.linalg.det(linear) <= 0 or not settings.scale_range[0] <= scale <= settings.scale_range[1]
            or singular[0] > settings.max_anisotropy * singular[1]
            or abs(h[2, 0]) * width + abs(h[2, 1]) * height > settings.max_perspective):
        return None
    warped = cv2.perspectiveTransform(_corners(size).astype(np.float64), h).astype(np.float32)
    frame = _corners(size)
    area, _ = cv2.intersectConvexConvex(warped, frame)
    overlap = float(area) / (width * height)
    return overlap if overlap >= settings.min_overlap else None
