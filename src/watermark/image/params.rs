//! Fixed parameters of the scheme (changing any of them changes the mark format).

/// Tile side in cells. The tile is repeated across the image.
pub(super) const TILE: usize = 64;
pub(super) const CELLS: usize = TILE * TILE;
/// Keyed pilot bits tested for presence.
pub(super) const PILOT_BITS: usize = 256;
/// Payload bits after error correction.
pub(super) const PAYLOAD_BITS: usize = 64;
/// Convolutional code: constraint length 7, rate 1/3, zero tail.
pub(super) const CODE_K: usize = 7;
pub(super) const CODE_BITS: usize = (PAYLOAD_BITS + CODE_K - 1) * 3;
/// Embedding cell size: image short side / CELL_DIVISOR pixels (at least 1), so the tile is a
/// quarter of the short side and any crop keeping ≥ 50 % of a side holds two periods.
pub(super) const CELL_DIVISOR: f64 = 256.0;
/// Smallest short side accepted for embedding.
pub(super) const MIN_EMBED_SIDE: u32 = 128;
/// Smallest short side accepted for detection.
pub(super) const MIN_DETECT_SIDE: u32 = 64;
/// Pass band of the mark in cycles per cell (radial), with cosine tapers of TAPER on each side;
/// within it the amplitude rises as f / BAND_HI (see `pattern::band_response`).
pub(super) const BAND_LO: f64 = 0.07;
pub(super) const BAND_HI: f64 = 0.30;
pub(super) const TAPER: f64 = 0.05;
/// Number of autocorrelation lattice candidates tested besides the size prior.
pub(super) const SYNC_CANDIDATES: usize = 4;
/// Affine lattice candidates (two independent axes) tested after those.
pub(super) const AFFINE_CANDIDATES: usize = 3;
/// Local perturbations (scale × rotation) tested around the best candidate.
pub(super) const REFINE_SCALE_STEP: f64 = 0.0025;
pub(super) const REFINE_ROT_STEP_DEG: f64 = 0.15;
/// Scale scan (crops): cell sizes prior × SCAN_MIN · SCAN_STEP^i, i < SCAN_STEPS, ranked with the
/// full-band pilot correlation of the spectrally whitened fold; up to SCAN_KEEP scales (early
/// triggers first, then the best-ranked) get full trials at the fine offsets SCAN_FINE (nearest
/// first). The scan base is the size prior, or short side / 256 for images under 256 px.
pub(super) const SCAN_MIN: f64 = 0.97;
pub(super) const SCAN_STEP: f64 = 1.01;
pub(super) const SCAN_STEPS: usize = 78;
/// Deep crops (keeping down to 35 % of each side, cell up to ≈ 3 × base): SCAN_WIDE_STEPS more
/// scales in steps of SCAN_WIDE_STEP (a smaller piece holds fewer cells, so it tolerates a
/// proportionally larger scale error; the fine offsets widen alike).
pub(super) const SCAN_WIDE_STEP: f64 = 1.025;
pub(super) const SCAN_WIDE_STEPS: usize = 15;
pub(super) const SCAN_KEEP: usize = 3;
pub(super) const SCAN_FINE: [f64; 5] = [0.0, -0.0025, 0.0025, -0.005, 0.005];
/// A scan scale whose correlation maximum reaches this many standard deviations gets its full
/// trials immediately (unmarked content: ≈ 4.3 over the 16 384 offsets and phases).
pub(super) const SCAN_EARLY_Z: f32 = 6.0;
/// Early reject of the scan: a best-ranked scale that did not trigger gets its full trials only
/// when its scan correlation reaches this many standard deviations (unmarked content: median
/// ≈ 4.8, 95th percentile ≈ 5.2 over the robustness sweep; marks the scan found: ≥ 6.7).
pub(super) const SCAN_REST_MIN_Z: f32 = 5.2;
/// Local refinement only runs when the best hypothesis so far reaches this weighted score
/// (unmarked content stays below ≈ 5.2 over all trials of one image).
pub(super) const REFINE_MIN_Z: f32 = 5.0;
/// Target false-positive probability per image (all trials counted).
pub(super) const TARGET_FPR: f64 = 1e-6;

/// Total number of keyed trials a detection may run (union bound): the geometries
/// (1 prior + SYNC_CANDIDATES) × 3 scales × 3 rotations × 2 (flip), plus AFFINE_CANDIDATES ×
/// 3 scales × 3 rotations (unflipped only), plus (SCAN_STEPS + SCAN_WIDE_STEPS) scan scales ×
/// 5 fine scales; each × CELLS offsets × 4 half-cell phases.
pub(super) const TRIALS: f64 = (((1 + SYNC_CANDIDATES) * 3 * 3 * 2
    + AFFINE_CANDIDATES * 3 * 3
    + (SCAN_STEPS + SCAN_WIDE_STEPS) * SCAN_FINE.len())
    * CELLS
    * 4) as f64;
