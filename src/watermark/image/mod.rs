//! Invisible image watermark: keyed, tiled spread-spectrum mark in luminance.
//!
//! # Scheme
//! * **Tile.** A 64×64-cell tile carries 256 keyed *pilot* bits and 210 *code* bits (the 64
//!   payload bits, XOR-whitened with a keyed mask, convolutionally encoded: K = 7, rate 1/3,
//!   zero tail, soft Viterbi). Every cell is assigned to one bit by a keyed permutation (each bit
//!   is spread over 8–10 cells scattered across the tile) and multiplied by a keyed ±1 chip. The
//!   resulting ±1 field is band-pass filtered on the torus (0.07–0.30 cycles/cell, amplitude
//!   rising in proportion to the frequency within the band: image texture has a roughly 1/f
//!   amplitude spectrum, so the upper part of the band is where the same mark power is least
//!   masked — crops of dense texture gain ≈ 10–20 % in z) and scaled to unit RMS: a
//!   mid-frequency noise pattern that tiles seamlessly.
//! * **Resolution independence.** One cell is `short side / 256` pixels (≥ 1), so the tile is a
//!   quarter of the short side whatever the resolution: a resized copy has the same geometry
//!   relative to its size, and any crop keeping ≥ 50 % of a side still holds two periods.
//! * **Embedding.** The tile is bilinearly sampled at every pixel and added to R, G and B alike:
//!   this changes luma only (Cb/Cr unchanged, so no colour fringes, and 4:2:0 subsampling or a
//!   conversion to grey keeps the mark). The amplitude is the local luma standard deviation
//!   (capped at 20 levels) times a gain chosen for a mark RMS of 2.6 levels (≈ 40 dB) but never
//!   more than 0.45 × the local deviation: texture carries the mark, flat sky gets ~nothing
//!   (flat or dark photos therefore end above 40 dB with a weaker mark). Densely textured
//!   images (RMS texture mask ≥ 12 levels, e.g. grass, gravel) hide more: the target RMS rises
//!   linearly up to 2.6 × 1.2 ≈ 3.1 levels (≈ 38.2 dB) at a mask RMS of 18; the 0.45 cap per
//!   region is unchanged, so flat areas of such images get no more than before. Small images
//!   are seen at full size: the target is 3 % lower at a short side of 256 px and below, rising
//!   linearly to the full target at 512 px (≈ 40.1 dB mean on 256-px photographs).
//! * **Detection.** Area-average luma and the colour differences B − Y, R − Y to a short side
//!   of exactly 256 px (images whose short side is under 512 px are used at full size) and
//!   subtract the local mean of each; cancel the part of the luma residual that
//!   a local (17×17, ridge) least-squares regression on the two colour residuals predicts (the
//!   mark is grey, so it is uncorrelated with colour, while shading of coloured texture moves
//!   luma and colour together; grey images are unaffected); divide by the local RMS of what is
//!   left and clip (whitening; also makes brightness/contrast irrelevant). For a geometry
//!   hypothesis (a 2×2 map from image to tile: cell size, rotation, aspect, shear; and flip)
//!   *fold* all pixels (separably for axis-aligned hypotheses: rows into bin rows, then
//!   columns) into one
//!   tile-sized sum at half-cell resolution (all copies add up; cost independent of the crop),
//!   low-pass it onto the 64×64 cell grid, *prewhiten its spectrum* (each coefficient divided by
//!   the RMS of its 5×5 frequency neighbourhood, floored at 10 % of the mean in-band power so
//!   frequencies a blur removed are not amplified: folded texture is strongly coloured — 1/f
//!   slope, periodic peaks for brick-like patterns — while the mark is flat across its band; uses
//!   the fold only, never the key), band-pass it, and cross-correlate with the keyed pilot
//!   template at all 4096 cyclic offsets × 4 half-cell phases (64×64 FFTs). At the best offset
//!   each bit's soft value is the chip-weighted sum over its cells, and the trial's presence
//!   score is the weighted pilot agreement z (see below).
//! * **Search.** Hypotheses, cheapest first, stopping at the first one whose z passes:
//!   (1) the size prior (unchanged / resized / recompressed); (2) the prior mirrored (flip);
//!   (3) lattice candidates from the spectrally whitened autocorrelation of the image (the
//!   periodic tile puts peaks on its lattice, periods up to 0.55 × the analysis window;
//!   computed from the image only, never from the key): up to 4 *square* lattices (a peak and
//!   its perpendicular twin: scale and rotation up to ±18°), unflipped, then up to 3 *affine*
//!   ones (the strongest peaks near each image axis, within ±22°, ranked by significance —
//!   mean product × √overlap, so a multiple of the period does not win by its noise — and
//!   paired: two lattice vectors give the whole 2×2 map, i.e. a non-uniform resize, shear and
//!   rotation at once; unflipped only, and not when it folds like a square candidate), then the
//!   square ones flipped; each lattice candidate gets its full trial only when its *coarse score*
//!   (the scale scan's statistic below, at its geometry) reaches 4.5 standard deviations (a
//!   gate: most unmarked images run none of these trials, and `detect_full_search` runs them
//!   all, so the robustness sweep counts what the gate misses); (4) if the best so far stands out of the noise (z ≥ 5), 3×3 small
//!   scale/rotation steps around it; (5) a scale scan for crops: cell = base × 0.97…2.09 in
//!   1 % steps, then on to 3.0 in 2.5 % steps (crops keeping down to 35 % of each side; a
//!   smaller piece holds fewer cells, so it tolerates a larger scale error) (base = the prior,
//!   or short side / 256 for images under 256 px, which may be downscaled copies), each ranked
//!   by the whitened full-band pilot correlation of a cell-resolution fold; a scale whose
//!   correlation reaches 6 standard
//!   deviations gets its full trials at once, otherwise the 3 best-ranked do after the scan, but
//!   only those reaching 5.2 standard deviations (*early reject*: unmarked photographs stay below
//!   that at 95 %, every mark the scan found in the robustness sweep reached ≥ 6.7, and the
//!   sweep counts what the rejected trials would have found, see `detect_full_search`); full
//!   trials at 5 fine scales (0, ±0.25 %, ±0.5 %, ×2.5 past the 1 % steps; nearest first).
//!   After a pass with z < 11 at a searched geometry (weaker payload), the geometry is polished
//!   (hill-climb in scale, rotation, and aspect for an affine one) for payload decoding only.
//!
//! # False-positive rate (derivation)
//! Pilot bits are derived from the key with their own HMAC label, independently of the chips,
//! the layout and the payload mask. For *any* fixed image and *any* fixed trial (geometry, flip,
//! cyclic offset, half-cell phase), the 256 pilot soft values `x_b` depend on the image, chips
//! and layout only. The presence statistic is
//! `z = Σ_b w_b·s_b / √(Σ_b w_b²)` with `s_b = +1` where `sign(x_b)` agrees with the keyed pilot
//! bit (−1 otherwise, also for `x_b = 0`) and `w_b = min(|x_b|, 2·RMS(x))`. Under the null
//! hypothesis (unmarked, or marked under another key) the pilot bits are fair coins independent
//! of the `x_b`, so given the weights `z` is a normalised weighted Rademacher sum and
//! `P(z ≥ t) ≤ min(exp(−t²/2), (2e³/9)·P(Z ≥ t))` (Hoeffding; Pinelis 1994, whose constant
//! 2e³/9 ≈ 4.46 Bentkus & Dzindzalieta 2015 sharpen to ≈ 3.18; Z standard normal; with equal
//! weights this is never below the exact binomial tail, checked in the tests).
//! Detection may look at no more than
//! `N = [(1 prior + 4 square lattices) × 3 scales × 3 rotations × 2 flips + 3 affine lattices ×
//! 3 scales × 3 rotations + (78 + 15) scan scales × 5 fine scales] × 4096 offsets × 4 half-cell
//! phases = 582 × 16 384 = 9 535 488` trials; which ones it
//! looks at depends on the data (the scan's ranking and early triggers, the lattice gate and the
//! choice of best offset use the key; the pre-processing — colour cancellation, local normalisation, clipping —
//! the lattice and the spectral prewhitening use the image only), but always
//! within this fixed set (the early reject and the lattice gate only skip trials of it, which
//! are still counted), so by the union bound `P(false positive) ≤ N · P(z ≥ t)`. The
//! smallest `t` with `N · P ≤ 1e-6` is **z ≥ 7.540** (`stats::z_threshold`, computed at run
//! time; there the Pinelis term is the smaller one: 4.46 × P(Z ≥ 7.540) = 1.05e-13, and
//! N × 1.05e-13 = 1.0e-6; the affine search of round two raised it from 7.515 with
//! N = 7 864 320). With equal weights this is 189 of 256 agreeing pilot bits
//! ([`presence_threshold`]); the weights let reliable bits count more (≈ 10–20 % higher z than
//! the plain sign count at the true geometry). The reported `false_positive_probability` is
//! `N · P(z ≥ z_found)` for the trial that passed (the payload polish never decides presence and
//! does not change it). The payload is decoded only after this test passed; the ECC is not used
//! as evidence.
//!
//! # Limits
//! Rotation beyond ±18°, crops keeping < 35 % of a side, rotation combined with a crop keeping
//! < 50 %, mirroring combined with a non-uniform resize, downscaling below a cell of ~0.75 px
//! along either axis and strong geometric warps are not synchronised. Dense grey texture (gravel) cropped to
//! 60 % or rotated sits at the threshold (z ≈ 6.5–8 at the right geometry depending on the
//! payload): the mark is there but the texture masks it. Strong blur of small images (σ = 2 px
//! at a 256-px short side) removes most of the band and often defeats detection. The payload of
//! a detection at a z close to the threshold can carry bit errors (the code bits have the same
//! per-bit SNR as the pilots).
//! The key is a *detection* key: whoever holds it can detect, and also estimate and subtract the
//! pattern. Detection images whose short side is < 64 px, and embedding below 128 px, return
//! [`WmError::ImageTooSmall`].

mod detect;
mod ecc;
mod embed;
mod fft2;
mod fold;
mod keyed;
mod luma;
mod params;
mod pattern;
mod stats;
mod sync;

use image::{DynamicImage, RgbImage, RgbaImage};

pub use super::WatermarkKey;

/// Embedding options.
#[derive(Clone, Debug)]
pub struct EmbedOptions {
    /// Multiplies the mark amplitude; 1.0 = default (≈ 40 dB PSNR on textured photographs).
    /// Must be in (0, 10].
    pub strength: f32,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions { strength: 1.0 }
    }
}

/// What embedding did.
#[derive(Clone, Debug)]
pub struct EmbedReport {
    /// PSNR of the marked image against the original (8-bit RGB, all three channels).
    pub psnr_db: f64,
    /// Pixels per tile cell and per tile period.
    pub cell_px: f32,
    /// The tile's side in pixels of the image as found.
    pub tile_px: f32,
    /// RMS of the added luma signal before rounding (8-bit levels).
    pub mark_rms: f32,
    /// RMS of the texture mask (local luma standard deviation, capped).
    pub mean_mask: f32,
}

/// A detected watermark.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// The 64 data bits.
    pub payload: [u8; 8],
    /// Keyed pilot bits whose sign agreed in the trial that passed the presence test, out of
    /// `compared_bits` (informative: the test itself weighs the bits, see the module docs).
    pub matching_bits: u32,
    /// Keyed bits compared in the presence test.
    pub compared_bits: u32,
    /// Union bound over all trials the detector may run: N · P(z ≥ z_found) for the weighted
    /// pilot score z of the trial that passed (module docs).
    pub false_positive_probability: f64,
    /// Found cell size relative to that of an uncropped marked image of this size (geometry
    /// fields are those of the polished trial the payload was decoded from)
    /// (1.0 = unchanged or resized only; 1/0.6 ≈ 1.67 for a crop keeping 60 % of each side).
    pub scale: f32,
    /// Found rotation of the tile grid, degrees.
    pub rotation_deg: f32,
    /// Phase of the tile grid (image pixels, relative to the working-image centre).
    pub offset: (i32, i32),
    /// Whether the match was found in the horizontally mirrored image.
    pub flipped: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
/// Why an image watermark could not be embedded or looked for.
pub enum WmError {
    #[error("image {width}x{height} too small: the short side must be at least {min_side} px")]
    /// The image is smaller than the watermark needs.
    ImageTooSmall {
        /// The image's width, px.
        width: u32,
        /// The image's height, px.
        height: u32,
        /// The shortest side the watermark needs, px.
        min_side: u32,
    },
    #[error("strength {0} out of range (0, 10]")]
    /// The strength is outside the range the embedder accepts.
    InvalidStrength(f32),
}

/// The smallest short side, in pixels, an image needs for [`embed_rgb`] / [`embed_rgba`] to
/// embed (smaller ones give [`WmError::ImageTooSmall`]): lets a caller decide before decoding.
pub fn min_embed_side() -> u32 {
    params::MIN_EMBED_SIDE
}

/// Embed `payload` into an RGB image in place.
pub fn embed_rgb(
    img: &mut RgbImage,
    payload: &[u8; 8],
    key: &WatermarkKey,
    opts: &EmbedOptions,
) -> Result<EmbedReport, WmError> {
    let (w, h) = img.dimensions();
    embed::embed_buf(img, w, h, 3, payload, key, opts)
}

/// Embed `payload` into an RGBA image in place; alpha is left untouched.
pub fn embed_rgba(
    img: &mut RgbaImage,
    payload: &[u8; 8],
    key: &WatermarkKey,
    opts: &EmbedOptions,
) -> Result<EmbedReport, WmError> {
    let (w, h) = img.dimensions();
    embed::embed_buf(img, w, h, 4, payload, key, opts)
}

/// Look for a mark made with `key`. `Ok(None)` = not found at the stated false-positive rate.
pub fn detect(img: &RgbImage, key: &WatermarkKey) -> Result<Option<Detection>, WmError> {
    let (w, h) = img.dimensions();
    detect::detect_buf(img, w, h, 3, key)
}

/// [`detect`] for any decoded image (grey, RGBA, 16-bit… are converted to 8-bit RGB first).
pub fn detect_dynamic(
    img: &DynamicImage,
    key: &WatermarkKey,
) -> Result<Option<Detection>, WmError> {
    match img {
        DynamicImage::ImageRgb8(rgb) => detect(rgb, key),
        DynamicImage::ImageRgba8(rgba) => {
            let (w, h) = rgba.dimensions();
            detect::detect_buf(rgba, w, h, 4, key)
        }
        other => detect(&other.to_rgb8(), key),
    }
}

/// Diagnostics: the best hypothesis even when it fails the presence test (never use its payload
/// as a detection; `false_positive_probability` tells whether it passed).
#[doc(hidden)]
pub fn detect_best_effort(
    img: &RgbImage,
    key: &WatermarkKey,
) -> Result<Option<Detection>, WmError> {
    let (w, h) = img.dimensions();
    detect::detect_inner(img, w, h, 3, key, true, true)
}

/// Diagnostics: [`detect`] without the early rejects of the search (every hypothesis the
/// detector may try is tried), to measure what the early rejects miss. Same presence test.
#[doc(hidden)]
pub fn detect_full_search(
    img: &RgbImage,
    key: &WatermarkKey,
) -> Result<Option<Detection>, WmError> {
    let (w, h) = img.dimensions();
    detect::detect_inner(img, w, h, 3, key, false, true)
}

/// The presence threshold in use, as matching pilot bits out of 256 when all bits weigh the same
/// (the test itself is on the weighted score, see [`presence_z_threshold`]), and the trial count N.
pub fn presence_threshold() -> (u32, f64) {
    let z = presence_z_threshold();
    let half = params::PILOT_BITS as f64 / 2.0;
    (
        (half + z * half.sqrt() / 2.0_f64.sqrt()).ceil() as u32,
        params::TRIALS,
    )
}

/// The presence threshold on the normalised weighted pilot score z: √(2 ln(N / 1e-6)).
pub fn presence_z_threshold() -> f64 {
    stats::z_threshold(params::TRIALS, params::TARGET_FPR)
}

#[cfg(test)]
mod tests;
