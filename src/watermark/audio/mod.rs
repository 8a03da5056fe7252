//! Inaudible, keyed audio watermark carrying a 64-bit payload (AI-generated content labelling,
//! GB 45438-2025 implicit label / EU AI Act Art. 50 machine-readable marking).
//!
//! # Scheme
//! * **Domain.** STFT with 40 ms windows and a 20 ms hop (frame length `rate/25`, so bins are
//!   25 Hz wide at every rate that is a multiple of 50 Hz) over the mono mix. The mark lives in
//!   93 cells of 3 bins (75 Hz) from 450 to 7425 Hz. Working by frequency, not by bin index,
//!   makes the mark rate-independent: the detector resamples anything to 16 kHz.
//! * **What is embedded.** Each frame's cells get a multiplicative change of their complex
//!   spectrum, `X += s * alpha * min(env/|X|, 8) * X`, where `s` is the cell's signed amplitude
//!   (+-1.4 in pilot cells, +-1 in data cells, see Layout) and `env` the spectral envelope
//!   (rms over +-400 Hz): the mark follows the host's envelope and phase, fills the valleys
//!   between harmonics at most up to 8*alpha of the bin, and is zero where the host is zero.
//!   The mark is built by inverse FFT + overlap-add (sqrt-Hann), given to every channel in
//!   proportion to its local level (so the down-mix carries exactly the mark), and passed through
//!   a time-domain guard (|mark| <= 0.5 x host peak over +-1 ms: no pre-echo, pauses stay silent).
//!   `alpha` is set per file so the host-to-mark power ratio is 30.5 dB (`EmbedOptions`).
//!   At 44.1/48 kHz and above (rates that are multiples of 100 Hz) the mark is computed on the
//!   mono mix decimated by a half-band filter to 22.05/24 kHz and interpolated back (the band
//!   ends at 7.4 kHz), which halves the FFT work; the result is the same mark to about -30 dB.
//! * **Layout.** A period is 232 frames (4.64 s, so any 5 s excerpt holds one whole period) and
//!   repeats through the file. In every frame, 29 key-chosen cells are pilot, the other 64 form
//!   8 groups of 8, each carrying one bit of the code word; every cell has a key chip (+-1) that
//!   whitens the pattern. The pilot cells get 1.4 times the data cells' amplitude: at the same
//!   total mark power the pilot, which alone decides presence, holds 47 % of it instead of 31 %
//!   (`z^2` of the presence test x1.51, the data cells' energy x0.77; this is what lets short
//!   telephone speech pass under 20 dB noise and a 0.1 s echo). Payload: 64 bits + 8 tail
//!   bits, rate-1/3 convolutional code (K = 9, free distance 18), 216 coded bits, each carried
//!   by 8-9 groups spread over the period; soft Viterbi decoding.
//! * **Detection.** Mono, 16 kHz, log-power STFT (40 ms sine window, the embedder's synthesis
//!   window) at 8 sub-hop offsets (2.5 ms steps). Feature per cell: log power minus a time
//!   reference (0.35 x each of the frames 20 ms before and after plus 0.15 x each of the frames
//!   40 ms before and after: removes steady tones and the slow envelope) minus the mean of the
//!   +-9 neighbouring bins (removes the spectral envelope), summed over the cell's bins,
//!   normalised by the frame's rms and clipped to +-3.5 (loudness- and outlier-robust), then
//!   multiplied by a reliability weight. The frame weight is `w_f = max(0, 1 - floor / e_f)`
//!   (`e_f` the frame's in-band power, `floor` its 3 % quantile over the file), the cell weight
//!   `w_fc = max(0, 1 - floor_c / e_fc)` (`e_fc` the cell's power smoothed over +-1 frame and
//!   +-1 cell, `floor_c` its 3 % quantile over the file's frames): cells at the level of a
//!   stationary background such as added noise, e.g. the high cells of speech in white noise,
//!   count little (the mark's share of a cell's log-power change is about this fraction). The
//!   presence test uses the product `w_f * w_fc`, the payload the mean `(w_f + w_fc) / 2`
//!   (measured best of product, mean, either alone), both times `r^0.75`, `r` the cell's valley
//!   ratio `min(env / |Y|, 8)` (mean over its bins, `env` the rms over +-400 Hz as in the
//!   embedder): the mark changes a bin's log power in proportion to this ratio, most between
//!   the host's harmonics (a function of the audio only). All frames are folded modulo the period
//!   (longer files add up), every phase of the period is tried, the pilot decides presence, and
//!   the data groups of the winning alignment are Viterbi-decoded, each cell's soft value
//!   scaled by the mark's response in that frequency region as measured on the pilot cells at
//!   that alignment (maximal-ratio combining: `sum chip * a / sum a^2` per cell, pooled over
//!   +-5 cells and shrunk half-way to the all-cell value), so cells the mark does not reach
//!   (above 4 kHz in telephone audio, bands a codec removed) count little in the payload.
//! * **Screen.** If speed 1 does not reach the threshold, the weighted cell features of the
//!   first 20 s (the unfolded terms of the fold, kept from the speed-1 step's two sub-hop
//!   offsets, a frame every 10 ms) are folded again under hypotheses, with no new spectra: a
//!   tempo `t` (time axis only) reads original frame `k` from the computed frame nearest to
//!   input time `t0 + k * 20 ms / t`, a pitch factor `p` (frequency axis only) reads original
//!   cell `c` by linear interpolation at input cell `(6.5 + c) * p - 6.5`, and a speed `s`
//!   (resampling: both) is tempo `s` with pitch `s`. The screen scores every point of three
//!   lines, `1 + 0.003 j`: speed `0 < |j| <= 20` (+-6 %), tempo `0 < |j| <= 34` (+-10.2 %) and
//!   pitch `0 < |j| <= 17` (+-5.1 %, +-86 cents), each at time origins `t0` 0 and 10 ms, with
//!   the variance term of an average phase (half the correlation work). The pitch map is the
//!   same linear map for every frame and commutes with the fold and with the FFT along the
//!   period, so each tempo's fold and column spectra serve its pitch factors (tempo 1 the pitch
//!   line, tempo `s` speed `s`): 138 folds for 284 hypotheses. The features are log powers, so
//!   the phase smearing of a stretch does not matter (its few ms of time jitter cost part of
//!   `z`). A screened score is not a trial: it only chooses what is searched exactly below, and
//!   unmarked audio (best screened score about 4) goes no further than the screen.
//! * **Speed search.** If the best screened speed reaches 5.0, that grid speed and the 4 next
//!   to it (+-0.3 % and +-0.6 %) are undone by resampling the first 20 s and searched at 2
//!   sub-hop offsets each; the best of all tried is reported (the one with the highest `z`,
//!   i.e. the speed nearest to the true one, which the payload needs: a 0.2 % error drifts by
//!   2 frames over 20 s). Every speed within +-6 % is within 0.15 % of a grid point.
//! * **Tempo and pitch search.** If the speed search does not pass either and the better of
//!   the tempo and pitch lines' best screened scores reaches 5.0, the 8 sub-hop offsets of the
//!   first 20 s are computed afresh (a frame every 2.5 ms) and that hypothesis and its two grid
//!   neighbours are searched exactly at time origins 0 and 10 ms; only these refined trials can
//!   report a detection (a screened score below 5.0 is far under the threshold).
//!
//! * **Pre-screen.** Each search step first tries part of its sub-hop offsets (speed 1: 2 of
//!   the 8, 10 ms apart; each grid speed: 1 of its 2) and tries the rest only if the best `z`
//!   so far reaches 4.0 (the pass needs 6.56, 7.20 or 7.43). Unmarked audio, whose best of 232
//!   phases is about 3, stops there: with the screen above, detection on an unmarked clip
//!   computes 2 feature passes (over the whole file) and no resampling beyond the input's.
//!   Marked audio loses little of its `z` 5 ms away from its best offset, so it continues.
//!   Skipped trials are still counted in the bound below.
//!
//! # False-positive rate (presence test, not "the ECC decoded")
//! For one trial (speed, sub-hop offset, period phase) the statistic is `S = sum_i c_i a_i` over
//! the pilot cells, where `a_i` are the folded, normalised, clipped, weighted features
//! (functions of the audio only: the weights `w_f * w_fc * r^0.75` come from the audio's power
//! spectrum, never from the key; the pilot-derived cell gains serve only the payload, after the
//! decision)
//! and `c_i` are the key's pilot chips (their signs only: the pilot amplitude 1.4 changes how
//! much mark the audio carries, not the test). Under the null hypothesis (audio not marked with this
//! key: unmarked, or marked with an independent key) the chips are independent fair +-1 signs
//! given the audio, so Hoeffding's inequality gives, for *any* audio and any such weights,
//! `P(S >= z * sqrt(sum_i a_i^2)) <= exp(-z^2 / 2)`.
//! For a tempo or pitch trial (hypothesis, time origin, period phase) the `a_i` are the same
//! per-frame terms, picked and interpolated as the hypothesis says: still functions of the
//! audio only, so the same inequality holds.
//! The whole search space is 67744 trials: 8 offsets x 232 phases = 1856 at speed 1, 40 grid
//! speeds x 2 offsets x 232 = 18560 at the other speeds, and (68 tempos + 34 pitches) x 2 time
//! origins x 232 = 47328 in the tempo and pitch grid (folding makes this independent of the
//! file's length, so a 10-minute file costs no more trials than a 5 s clip). The 1e-6 budget is
//! split by a weighted union bound: 0.85e-6 over the speed-1 trials, 0.10e-6 over the speed
//! grid's and 0.05e-6 over the tempo and pitch grid's. A trial reports
//! `p = (n_g / b_g) * exp(-z^2 / 2)` with `(n_g, b_g)` its group's `(1856, 0.85)`,
//! `(18560, 0.10)` or `(47328, 0.05)`, and the mark is reported when `p <= 1e-6`, i.e.
//! `z >= 6.56` at speed 1, `z >= 7.20` at the other speeds and `z >= 7.43` in the tempo and
//! pitch grid. Then `P(false positive) <= sum_g n_g * (b_g * 1e-6 / n_g) = 1e-6` for any
//! unmarked audio; [`Detection::false_positive_probability`] is `p` of the winning trial. What
//! the new grid cost: the speed-1 threshold rose from 6.55 (share 0.9) to 6.56, the speed grid's
//! stayed 7.20 (share 0.1 before and after). All 67744 trials are counted although only some
//! are computed (the search stops at speed 1 if that passes, at most 5 of the 40 grid speeds
//! are tried and at most 3 tempo or pitch hypotheses are refined, all chosen by the screen from
//! the audio and the key; the reported trial is the best of those tried): the trials actually run are a subset of the counted grid, so the
//! event "some trial run passes" is contained in "some grid trial passes", whose probability
//! the bound already covers. The screen's scores are not trials: they only choose what is
//! searched exactly, and none is ever reported.
//! (`matching_bits`/`compared_bits` count frames whose pilot correlation has the right sign;
//! under the null they are Binomial(n, 1/2) and are reported for information.) The error
//! correcting code plays no part in the decision.
//!
//! Not done: speeds beyond +-6 %, tempos beyond +-10 % and pitch shifts beyond +-5 % are not
//! searched, nor tempo and pitch changed together other than as a speed change; the speed,
//! tempo and pitch searches read only the first 20 s; presence from 2 s
//! excerpts is not always reached (less than one period: the pilot evidence of 2 s is about
//! half that of a period), and their payload mostly fails; no use of the data cells for presence (that would need a bound over
//! code words; a verifier that knows the payload can use [`detect_expected`], whose single-trial
//! bound needs no search); see the crate's report for measured rates. The pilot gain trades
//! payload for presence (1.3 or 1.35 lose the 0.1 s echo on 5.7 s of 8 kHz speech); the
//! valley-ratio weight won back exact payloads on every unmodified item; white noise at
//! 20 dB SNR on 5.7 s of 8 kHz speech (all the noise inside 0-4 kHz, pauses filled) is not found.

mod conv;
mod detect;
mod embed;
mod error;
mod features;
mod keystream;
mod layout;
mod resample;
mod stretch;

pub use error::WmError;

pub use super::WatermarkKey;

/// Embedding options.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedOptions {
    /// Amplitude multiplier of the mark (1.0 = default). 2.0 is +6 dB mark power (more robust,
    /// SNR 6 dB lower), 0.5 is -6 dB.
    pub strength: f32,
    /// Mark-to-host SNR the embedder aims at for strength 1.0, in dB (default 30.5). The mark is
    /// rescaled within bounds to meet it; the achieved value is in [`EmbedReport::snr_db`].
    pub target_snr_db: f64,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            strength: 1.0,
            target_snr_db: 30.5,
        }
    }
}

/// What `embed` did.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedReport {
    /// Host-to-mark power ratio over all channels, in dB (infinite if nothing was added).
    pub snr_db: f64,
    /// Effective relative strength of the mark against the local spectral envelope.
    pub alpha: f32,
    /// Duration of the input.
    pub seconds: f64,
    /// How many whole payload periods (4.64 s each) the input holds.
    pub periods: f64,
    /// Hop frames (20 ms) that received some of the mark: the mark follows the host, so
    /// digital silence gets none.
    pub marked_frames: usize,
}

impl EmbedReport {
    /// Seconds of audio that received some of the mark.
    pub fn marked_seconds(&self) -> f64 {
        self.marked_frames as f64 * PERIOD_SECONDS / layout::PERIOD as f64
    }

    /// True when at least one whole period's worth of frames (4.64 s) carries the mark: less
    /// than that is not enough for the detector's presence test, which [`confirm`] then runs.
    pub fn holds_a_period(&self) -> bool {
        self.marked_frames >= layout::PERIOD
    }
}

/// Length of one payload period, seconds (232 hop frames of 20 ms).
pub const PERIOD_SECONDS: f64 = layout::PERIOD as f64 * 0.02;

/// A found watermark.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The 64 data bits (error-corrected).
    pub payload: [u8; 8],
    /// Keyed pilot bits that matched, out of `compared_bits` (presence test).
    pub matching_bits: u32,
    /// Keyed bits compared in the presence test.
    pub compared_bits: u32,
    /// Probability that unmarked audio passes this test, every offset/phase/speed tried included.
    pub false_positive_probability: f64,
    /// Where the first whole period found starts, in seconds from the start of the input.
    pub start_seconds: f64,
    /// Speed factor of the input relative to the marked original (1.0 = unchanged); for a mark
    /// found by the tempo search, the tempo factor (time axis only); 1.0 for a pitch shift.
    pub speed: f32,
}

/// Result of [`detect_expected`]: does the audio carry the mark of this key with the expected
/// payload?
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedCheck {
    /// `false_agreement_probability <= 1e-6` and the decoded payload is the expected one.
    pub agrees: bool,
    /// Bound on the probability that audio not marked with this key (unmarked, or marked with
    /// an independent key) correlates this well with the expected code word:
    /// `min(1, exp(-z^2 / 2))`, one trial (see [`detect_expected`]).
    pub false_agreement_probability: f64,
    /// Normalised correlation of the data cells with the expected code word's signs.
    pub z: f64,
    /// Fraction of the 216 coded bits whose soft value has the expected code word's sign.
    pub coded_bit_agreement: f64,
    /// The Viterbi-decoded payload (that of `detection`) equals the expected one.
    pub decoded_matches: bool,
    /// The presence search's best candidate (as [`detect_best`]), at whose alignment and speed
    /// the check is made.
    pub detection: Detection,
}

pub(super) fn validate(len: usize, channels: usize, rate: u32) -> Result<(), WmError> {
    if channels == 0 {
        return Err(WmError::NoChannels);
    }
    if !len.is_multiple_of(channels) {
        return Err(WmError::RaggedBuffer { len, channels });
    }
    if !(8000..=192_000).contains(&rate) {
        return Err(WmError::UnsupportedSampleRate(rate));
    }
    Ok(())
}

/// True if no sample is NaN or infinite (largest magnitude bits below the exponent-all-ones
/// pattern; a branch-free max per chunk, which vectorises).
pub(super) fn all_finite(x: &[f32]) -> bool {
    x.chunks(4096)
        .all(|c| c.iter().fold(0u32, |m, v| m.max(v.to_bits() & 0x7fff_ffff)) < 0x7f80_0000)
}

/// Embed `payload` into interleaved float samples (nominal range -1..1) in place.
pub fn embed(
    samples: &mut [f32],
    channels: usize,
    sample_rate: u32,
    payload: &[u8; 8],
    key: &WatermarkKey,
    opts: &EmbedOptions,
) -> Result<EmbedReport, WmError> {
    embed::embed_f32(samples, channels, sample_rate, payload, key, opts)
}

/// Embed into interleaved 16-bit samples in place (rounded, clamped to the i16 range), read
/// and written where they lie (no float copy of the whole input).
pub fn embed_i16(
    samples: &mut [i16],
    channels: usize,
    sample_rate: u32,
    payload: &[u8; 8],
    key: &WatermarkKey,
    opts: &EmbedOptions,
) -> Result<EmbedReport, WmError> {
    embed::embed_f32(samples, channels, sample_rate, payload, key, opts)
}

/// Embed into interleaved 16-bit little-endian PCM bytes in place (a WAV `data` chunk's body:
/// whole frames, 2 bytes per sample), as [`embed_i16`].
pub fn embed_pcm16le(
    bytes: &mut [u8],
    channels: usize,
    sample_rate: u32,
    payload: &[u8; 8],
    key: &WatermarkKey,
    opts: &EmbedOptions,
) -> Result<EmbedReport, WmError> {
    let (frames, _) = bytes.as_chunks_mut::<2>();
    embed::embed_f32(frames, channels, sample_rate, payload, key, opts)
}

/// [`confirm`] on 16-bit little-endian PCM bytes (as [`embed_pcm16le`] takes them).
pub fn confirm_pcm16le(
    bytes: &[u8],
    channels: usize,
    sample_rate: u32,
    key: &WatermarkKey,
    payload: &[u8; 8],
) -> Result<bool, WmError> {
    let (frames, _) = bytes.as_chunks::<2>();
    confirm_samples(frames, channels, sample_rate, key, payload)
}

/// Look for the mark. `Ok(None)` means "not found at the stated false-positive rate".
pub fn detect(
    samples: &[f32],
    channels: usize,
    sample_rate: u32,
    key: &WatermarkKey,
) -> Result<Option<Detection>, WmError> {
    Ok(detect_best(samples, channels, sample_rate, key)?
        .filter(|d| d.false_positive_probability <= detect::FP_TARGET))
}

/// Detection on 16-bit samples.
pub fn detect_i16(
    samples: &[i16],
    channels: usize,
    sample_rate: u32,
    key: &WatermarkKey,
) -> Result<Option<Detection>, WmError> {
    let x = detect::to_detection_rate(samples, channels, sample_rate)?;
    let layout = layout::Layout::new(&key.0);
    Ok(detect::search_all(&x, &layout)
        .filter(|d| d.false_positive_probability <= detect::FP_TARGET))
}

/// The best candidate alignment whatever its false-positive probability (for diagnostics and
/// evaluation; `detect` is this filtered at 1e-6).
pub fn detect_best(
    samples: &[f32],
    channels: usize,
    sample_rate: u32,
    key: &WatermarkKey,
) -> Result<Option<Detection>, WmError> {
    let x = detect::to_detection_rate(samples, channels, sample_rate)?;
    let layout = layout::Layout::new(&key.0);
    Ok(detect::search_all(&x, &layout))
}

/// Whether freshly marked samples carry `payload` as [`detect`] will read it: the detector's
/// speed-1 trial at sub-hop offset 0 (where freshly marked audio has its frames), with the
/// speed-1 step's threshold and trial count, passes, and the payload decoded there is
/// `payload`. The detector always computes that offset first, so its speed-1 step then passes on
/// these samples (its best trial scores at least as high); its payload is decoded at its best
/// offset, which on unchanged audio is this one or one 2.5 ms away that reads the same frames.
/// An embedder that claims the mark (e.g. records it in a seal) calls this first, so a claim is
/// never made for audio too short, too quiet or too sparse to hold it. One feature pass instead
/// of the search's eight.
pub fn confirm(
    samples: &[f32],
    channels: usize,
    sample_rate: u32,
    key: &WatermarkKey,
    payload: &[u8; 8],
) -> Result<bool, WmError> {
    confirm_samples(samples, channels, sample_rate, key, payload)
}

fn confirm_samples<S: embed::Sample>(
    samples: &[S],
    channels: usize,
    sample_rate: u32,
    key: &WatermarkKey,
    payload: &[u8; 8],
) -> Result<bool, WmError> {
    let x = detect::to_detection_rate(samples, channels, sample_rate)?;
    let layout = layout::Layout::new(&key.0);
    Ok(detect::search_offset0(&x, &layout).is_some_and(|f| {
        f.det.false_positive_probability <= detect::FP_TARGET && f.det.payload == *payload
    }))
}

/// Informed check for a verifier that knows which payload to expect (e.g. from a signed metadata
/// label): at the alignment and speed the presence search found (its best candidate, whether or
/// not it passed), correlate the data cells with the signs of the expected code word.
/// `Ok(None)` if the input is too short for any candidate. [`detect`] is unchanged by this.
///
/// **Statistic.** `T = sum_i e_i x_i` over the folded data cells `i` at that alignment, `x_i`
/// the cell's payload soft value (its weighted feature times the pilot-derived cell gain, as fed
/// to the Viterbi decoder) and `e_i = c_i * b_i` the sign the expected code word gives the cell
/// (`c_i` the key's chip of the cell, `b_i = +-1` its coded bit); `z = T / sqrt(sum_i x_i^2)`.
///
/// **Bound.** Null hypothesis: the audio does not carry a mark made with this key (unmarked, or
/// marked with an independent key). Then the key's chips are independent fair signs given the
/// audio. The alignment, the speed and the cell gains are functions of the audio and of the
/// *pilot* chips only; the data cells' chips are independent of them, so given everything the
/// `x_i` depend on, the `e_i` are independent fair signs (a fixed `b_i` times a fair `c_i`).
/// Hoeffding's inequality gives `P(T >= z sqrt(sum x_i^2)) <= exp(-z^2 / 2)` for any audio.
/// The data chips enter no search, so this is a single trial (no multiplicity factor); a
/// verifier checking `m` candidate payloads must multiply by `m`. `agrees` needs this at most
/// 1e-6 (`z >= 5.26`, against 6.56 for the blind presence test, which pays for 67744 trials).
///
/// **Another payload.** A mark made with this key but carrying a different payload is not
/// covered by the bound: its code word differs from the expected one in at least the free
/// distance, 18 of 216 coded bits, and agrees on the rest, so it also scores a high `z`. That
/// case is separated by the decoding: `agrees` also requires the Viterbi-decoded payload (the
/// code word with the best soft metric) to be the expected one; `coded_bit_agreement` reports
/// how many coded bits carry the expected sign (about 1 - 18/216 = 0.92 or less for the
/// nearest other payload even without noise). No probability is claimed for this case.
///
/// Measured (`wm_audio_robustness --informed`, 30 items, before the valley ratio entered the
/// presence weights): it agrees where the payload decodes exactly, and on some 2 s excerpts the
/// blind test missed; 0 of 30 unmarked originals agree.
pub fn detect_expected(
    samples: &[f32],
    channels: usize,
    sample_rate: u32,
    key: &WatermarkKey,
    expected: &[u8; 8],
) -> Result<Option<ExpectedCheck>, WmError> {
    let x = detect::to_detection_rate(samples, channels, sample_rate)?;
    let layout = layout::Layout::new(&key.0);
    let Some(found) = detect::search_found(&x, &layout) else {
        return Ok(None);
    };
    let coded = conv::encode(expected);
    let (z, agreement) = detect::expected_score(&found, &layout, &coded);
    let p = if z > 0.0 {
        (-0.5 * z * z).exp().min(1.0)
    } else {
        1.0
    };
    let decoded_matches = found.det.payload == *expected;
    Ok(Some(ExpectedCheck {
        agrees: p <= detect::FP_TARGET && decoded_matches,
        false_agreement_probability: p,
        z,
        coded_bit_agreement: agreement,
        decoded_matches,
        detection: found.det,
    }))
}

#[cfg(test)]
mod tests;
