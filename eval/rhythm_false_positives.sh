#!/usr/bin/env bash
# The audible-rhythm detector measured on hours of real speech and music: false detections per
# hour and source, and the true detection rate on rhythm-labeled copies (plain, MP3 64k, 16 kHz,
# 22.05 kHz).
#
#   eval/rhythm_false_positives.sh            # fetch (once, ~330 MB of packages), then measure
#   eval/rhythm_false_positives.sh --sample 40  # labeled copies of 40 files per source (default 12)
#
# The unlabeled audio is searched twice: as decoded, and resampled by sox to 44.1 kHz stereo (the
# detector's frames fall differently at another rate: the speech that fooled an earlier version
# did so only at 22.05 and 44.1 kHz).
#
# Everything comes from package registries by package name and lands in
# $AIGCMARK_CORPUS/rhythm/<source>/ (default ~/.cache/aigcmark-corpus), beside the test corpus:
#
# | source          | package                              | what                                   |
# |-----------------|--------------------------------------|----------------------------------------|
# | speech-en       | Debian asterisk-core-sounds-en-wav   | 568 telephone prompts, 8 kHz, US English |
# | speech-es       | Debian asterisk-core-sounds-es-wav   | 527 prompts, Mexican Spanish           |
# | speech-fr       | Debian asterisk-core-sounds-fr-wav   | 561 prompts, Canadian French           |
# | speech-fillets  | Debian fillets-ng-data               | game voice acting (Ogg Vorbis)         |
# | speech-espeak   | espeak-ng                            | synthesised speech, 24 voices (TTS stand-in) |
# | music-moh       | Debian asterisk-moh-opsound-wav      | 5 hold-music tracks, 8 kHz             |
# | music-asc       | Debian asc-music                     | 3 game tracks, 22.05 kHz MP3           |
# | music-fillets   | Debian fillets-ng-data               | 15 game tracks (Ogg Vorbis)            |
# | music-wesnoth   | Debian wesnoth-1.16-music            | 41 orchestral tracks (Ogg Vorbis), 2 h |
# | music-scsynth   | npm supersonic-scsynth-samples       | 206 loops and instruments, 44.1 kHz FLAC |
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CORPUS="${AIGCMARK_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/aigcmark-corpus}"
OUT="$CORPUS/rhythm"
DL="$CORPUS/.dl"
mkdir -p "$OUT" "$DL"
log() { echo "rhythm_false_positives: $*" >&2; }

deb() { # deb PKG SOURCE FIND-ARGS... : copies the package's files matching FIND-ARGS into SOURCE
  local pkg=$1 src=$2
  shift 2
  [ -f "$OUT/$src/.done" ] && return 0
  log "Debian $pkg -> $src"
  if [ ! -d "$DL/$pkg" ]; then
    ( cd "$DL" && apt-get download "$pkg" >/dev/null 2>&1 ) || {
      apt-get update -qq >/dev/null 2>&1 || true
      ( cd "$DL" && apt-get download "$pkg" >/dev/null )
    }
    dpkg-deb -x "$DL/${pkg}"_*.deb "$DL/$pkg.tmp" && mv "$DL/$pkg.tmp" "$DL/$pkg"
    rm -f "$DL/${pkg}"_*.deb
  fi
  mkdir -p "$OUT/$src"
  # Flattened names: the last three path parts (fillets-ng has one folder per level, asterisk
  # one per kind of prompt).
  find "$DL/$pkg" -type f "$@" | while read -r f; do
    cp "$f" "$OUT/$src/$(echo "$f" | awk -F/ '{ print $(NF-2) "-" $(NF-1) "-" $NF }')"
  done
  touch "$OUT/$src/.done"
}

deb asterisk-core-sounds-en-wav speech-en -name '*.wav'
deb asterisk-core-sounds-es-wav speech-es -name '*.wav'
deb asterisk-core-sounds-fr-wav speech-fr -name '*.wav'
deb fillets-ng-data speech-fillets -name '*.ogg' -path '*/sound/*' -not -path '*/sound/share/*'
deb fillets-ng-data music-fillets -name '*.ogg' -path '*/fillets-ng/music/*'
deb asterisk-moh-opsound-wav music-moh -name '*.wav'
deb asc-music music-asc -name '*.mp3'
deb wesnoth-1.16-music music-wesnoth -name '*.ogg'
rm -rf "$DL/asterisk-core-sounds-en-wav" "$DL/asterisk-core-sounds-es-wav" "$DL/asterisk-core-sounds-fr-wav" \
  "$DL/fillets-ng-data" "$DL/asterisk-moh-opsound-wav" "$DL/asc-music" "$DL/wesnoth-1.16-music"

if [ ! -f "$OUT/music-scsynth/.done" ]; then
  log "npm supersonic-scsynth-samples -> music-scsynth"
  rm -rf "$DL/npm-rhythm" && mkdir -p "$DL/npm-rhythm"
  ( cd "$DL/npm-rhythm" && npm pack --silent supersonic-scsynth-samples >/dev/null 2>&1 )
  tar -xzf "$DL"/npm-rhythm/*.tgz -C "$DL/npm-rhythm"
  mkdir -p "$OUT/music-scsynth"
  cp "$DL"/npm-rhythm/package/samples/*.flac "$OUT/music-scsynth/"
  rm -rf "$DL/npm-rhythm"
  touch "$OUT/music-scsynth/.done"
fi

if [ ! -f "$OUT/speech-espeak/.done" ]; then
  log "espeak-ng -> speech-espeak"
  mkdir -p "$OUT/speech-espeak"
  text_en="The quick brown fox jumps over the lazy dog. Please hold the line; your call is important to us. One, two, three, four, five, six, seven, eight, nine, ten. Is it raining in Paris, or is the sun out today? I am not sure what the answer is, but I will find out."
  for v in en en-us en-gb-x-rp en+f3 en+m7 en+whisper de fr es it pt nl pl ru sv fi cs el hu tr; do
    espeak-ng -v "$v" -w "$OUT/speech-espeak/$v.wav" "$text_en"
  done
  espeak-ng -v cmn -w "$OUT/speech-espeak/cmn.wav" "这是一段由语音合成生成的普通话示例。今天天气很好，我们去公园散步吧。一二三四五六七八九十。请稍候，您的电话对我们很重要。"
  espeak-ng -v yue -w "$OUT/speech-espeak/yue.wav" "今日天氣好好，我哋去公園散步啦。一二三四五六七八九十。"
  espeak-ng -v ja -w "$OUT/speech-espeak/ja.wav" "今日はいい天気ですね。一、二、三、四、五、六、七、八、九、十。"
  espeak-ng -v ko -w "$OUT/speech-espeak/ko.wav" "오늘은 날씨가 좋습니다. 하나, 둘, 셋, 넷, 다섯, 여섯, 일곱, 여덟, 아홉, 열."
  touch "$OUT/speech-espeak/.done"
fi

cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cargo build --quiet --release -p aigcmark-eval --bin rhythm_false_positives
BIN="$CARGO_TARGET_DIR/release/rhythm_false_positives"
echo "== as decoded (native rates), with rhythm-labeled copies"
"$BIN" "$OUT" "$@"
echo
echo "== resampled by sox to 44.1 kHz stereo"
"$BIN" "$OUT" --at 44100 --no-true
