"""The CHANGE detector's settings: analysis size, candidates, comparison, normal variation, threshold, events.

Every field can be overridden by name (`--set KEY=VALUE` in the CLI, `NAME.key=value` in `evaluate`), the
same way as every kind's (detection.configs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from detection import configs


@dataclass(frozen=True)
class ChangeConfig:
    name: str = "default"
    # Analysis size: frames wider than this are resized to it (aspect kept); narrower ones are kept as they are.
    analysis_width: int = 1280
    # Alignment runs on a copy at most this wide (the homography is rescaled to the analysis size).
    align_width: int = 640
    # ECC refines the keypoint homography on a copy at most this wide (0: at the alignment width).
    ecc_width: int = 320
    # Reference frames are stored in the index as JPEG at the analysis size, at this quality.
    jpeg_quality: int = 90
    # Candidates: this many reference frames (from different flights) per frame of today.
    candidates: int = 3
    # With telemetry: a reference position farther than this many altitudes from today's is no reference.
    max_distance_altitudes: float = 0.5
    # CNN branch: MobileNetV2 (ImageNet) truncated after this block (6: stride 8, 32 channels).
    cnn_block: int = 6
    # The CNN sees the frame at grid width * 8 * cnn_scale pixels (1: one feature vector per grid cell) ...
    cnn_scale: float = 0.5
    # ... but never enlarged more than this many times (0: no limit, files before it). A small frame (d2's
    # 160x120) was shown to the CNN 4x enlarged, where its maps follow interpolation texture; measured on d2 with
    # `bench/change_ablation.py` (BENCHMARKS.md, "CHANGE detector"): 1x < 2x > 4x > 8x. Frames of 320 pixels and
    # wider are not affected (the CNN sees them at 640 pixels or fewer either way).
    cnn_max_enlargement: float = 2.0
    # > 0: the reference's CNN map is computed once, when it is indexed (and stored in the index), and warped
    # into today's view when the candidate's view differs from today's by less than this many degrees of
    # heading (and scale within 1 +- cnn_warp_max_scale); other candidates are warped as frames first and go
    # through the CNN. 0 (default): always from the warped frame. Warped maps are much cheaper but, sampled at
    # another phase of the network's stride than today's, they differ from today's on normal ground more than
    # features of the warped frame do.
    cnn_warp_max_angle: float = 0.0
    cnn_warp_max_scale: float = 0.15
    use_cnn: bool = True
    # The colour branch (log-intensity detail) is off by default: on both the `patrol` and d2 benchmarks its
    # frame maxima sit on normal variation (glint, waves, light) and lowered the frame AUC of every class but
    # debris when combined with the CNN branch (BENCHMARKS.md, "CHANGE detector").
    use_colour: bool = False
    # What the CNN sees where the warped reference does not reach today's view: "today", today's own pixels
    # (the two inputs then agree outside the part they share, so cells near the edge of that part are compared on
    # their content, not on what fills the rest); or "reflect", the reference reflected at its edge (files before
    # this setting; within the network's receptive field of that edge the reflection reads as a change).
    reference_fill: str = "today"
    use_alignment: bool = True
    # The comparison grid: both branches give one value per `grid_stride` analysis pixels.
    grid_stride: int = 8
    # Residual misalignment: minimum distance over shifts of up to this many grid cells in each direction.
    neighbourhood: int = 1
    # Cells along today's frame border left out of the comparison (0: none, files before the setting). There the
    # reference's neighbourhood range is cut by the view (fewer reference cells to match, so larger distances)
    # and both CNN maps meet the network's padding: the outermost ring held the maxima of many normal frames.
    # Measured on `patrol` and d2 (BENCHMARKS.md, "CHANGE detector"): 1 ring is best on both; 2, 4 and 8 less.
    frame_edge: int = 1
    # Colour: differences of log intensity, minus their large-scale component (light, cloud shadows),
    # blurred with a Gaussian of this fraction of the frame width.
    background_sigma: float = 0.04
    # Normal variation (leave-one-out residuals of the references, PaDiM-like): on or off.
    normal_variation: bool = True
    # How the candidates' residuals make one place's expected variation: "max", the highest of them (each is one
    # sample of how much that place differs between normal flights, so the highest of K is the conservative
    # estimate), or "own", each candidate divided by its own residual alone (detector files before "max").
    variation_pooling: str = "max"
    # The frame's change map as robust z-scores over the cells it compares, (value - median) / MAD, clipped at 0:
    # "mad"; or "none" (files before it). A change spread over the whole frame (light, haze, sea state,
    # compression) raises the median and MAD with it; an object raises a few cells only.
    frame_normalisation: str = "mad"
    # Map smoothing (grid cells, Gaussian sigma) before taking the frame's maximum.
    map_sigma: float = 1.0
    # Persistence: a frame keeps its score only if this many consecutive frames are at least as high
    # (a grey-scale opening over time); 1 turns it off.
    persistence: int = 2
    # > 0: persistence on the ground instead: a cell keeps its value only where the previous or the next compared
    # frame, moved into this frame's view by today's own motion between the two, is as high within this many grid
    # cells (a moving boat, a residual misalignment). Sun-glint sparkle flickers from one sample to the next at
    # a place, so a frame of it no longer passes on sparkle elsewhere in the next; an object stays where it is.
    # It pairs consecutive frames, so it applies with persistence 2; 0 or another persistence: the score-level
    # filter above (0: files before it).
    ground_radius: int = 8
    # Threshold: this quantile of the validation normal frames' scores (a fixed false-alarm rate).
    false_alarm_quantile: float = 0.995
    heatmap_pixels: int = 4096
    event_max_gap: float = 1.0
    event_min_duration: float = 0.0
    display_width: int = 640  # comparison images kept for event peaks

    def __post_init__(self) -> None:
        if self.analysis_width < 32 or self.align_width < 32:
            raise ValueError("analysis_width and align_width must be at least 32 pixels")
        if self.candidates < 1:
            raise ValueError("candidates must be at least 1")
        if not (self.use_cnn or self.use_colour):
            raise ValueError("use_cnn and use_colour cannot both be off: nothing would be compared")
        if not 0.0 < self.false_alarm_quantile < 1.0:
            raise ValueError("false_alarm_quantile must lie strictly between 0 and 1")
        if self.cnn_warp_max_angle < 0 or self.cnn_warp_max_scale < 0 or self.ecc_width < 0:
            raise ValueError("cnn_warp_max_angle, cnn_warp_max_scale and ecc_width must not be negative")
        if self.variation_pooling not in ("max", "own"):
            raise ValueError(f"variation_pooling must be 'max' or 'own', not {self.variation_pooling!r}")
        if self.reference_fill not in ("today", "reflect"):
            raise ValueError(f"reference_fill must be 'today' or 'reflect', not {self.reference_fill!r}")
        if self.frame_normalisation not in ("mad", "none"):
            raise ValueError(f"frame_normalisation must be 'mad' or 'none', not {self.frame_normalisation!r}")
        if self.cnn_scale <= 0 or self.cnn_max_enlargement < 0:
            raise ValueError("cnn_scale must be positive and cnn_max_enlargement not negative")
        if self.persistence < 1 or self.neighbourhood < 0 or self.grid_stride < 1 or self.frame_edge < 0:
            raise ValueError("persistence >= 1, neighbourhood >= 0, frame_edge >= 0 and grid_stride >= 1 are required")
        if self.ground_radius < 0:
            raise ValueError("ground_radius must not be negative")

    @property
    def on_ground(self) -> bool:
        """Whether persistence is judged on the ground (`ground_radius`), not on frame scores."""
        return self.ground_radius > 0 and self.persistence == 2

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ChangeConfig:
        """The config a detector file saved (files written before the device left them still load; files
        written before `variation_pooling`, `frame_normalisation`, the colour default, the edge fixes and
        `cnn_max_enlargement` and `ground_radius` keep scoring as they were trained: their threshold belongs to
        that scoring)."""
        return configs.from_saved(cls, {**SCORING_BEFORE_FRAME_NORMALISATION, **SCORING_BEFORE_EDGE_FIXES,
                                        **SCORING_BEFORE_ENLARGEMENT_LIMIT, **SCORING_BEFORE_GROUND_PERSISTENCE,
                                        **values}, kind="CHANGE")


# What a saved config without these keys meant (detector files of the seventh session and before).
SCORING_BEFORE_FRAME_NORMALISATION = {"variation_pooling": "own", "frame_normalisation": "none", "use_colour": True}
# ... and without this one (files of the ninth session and before).
SCORING_BEFORE_EDGE_FIXES = {"reference_fill": "reflect", "frame_edge": 0}
# ... and without this one (files of the fourteenth session and before).
SCORING_BEFORE_ENLARGEMENT_LIMIT = {"cnn_max_enlargement": 0.0}
# ... and without this one (files of the fifteenth session and before).
SCORING_BEFORE_GROUND_PERSISTENCE = {"ground_radius": 0}

PRESETS = {"default": ChangeConfig()}


def make_config(overrides: dict | None = None) -> ChangeConfig:
    """The default config with `overrides` applied (detection.configs: unknown keys are an error naming the
    known ones; `device` is left to the trainer)."""
    return configs.make_config(PRESETS, overrides, kind="CHANGE")
