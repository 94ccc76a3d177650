"""Delivery profiles: the technical numbers each retailer asks of the finished audio.

ACX's spec is the strictest common one and is the default; Findaway/INaudio shares its numbers,
Google Play and Apple Books are looser in places (see REFERENCE.md, "Retail delivery").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipelines.core.errors import StudioError


@dataclass(frozen=True, slots=True)
class DeliveryProfile:
    name: str
    label: str
    rms_min_db: float = -23.0
    rms_max_db: float = -18.0
    peak_max_db: float = -3.0
    noise_floor_max_db: float = -60.0
    head_min_s: float = 0.5
    head_max_s: float = 1.0
    tail_min_s: float = 1.0
    tail_max_s: float = 5.0
    head_s: float = 0.75  # room tone written before the first word of a chapter
    tail_s: float = 2.0  # and after the last
    sample_rate: int = 44_100
    channels: int = 1
    mp3_bitrate_kbps: int = 192
    aac_bitrate_kbps: int = 64
    # ffmpeg's "fast" AAC coder: about 3.5x less CPU than "twoloop" on speech, and the better of
    # the two from 64 kbit/s mono up (twoloop's strength is lower rates).
    aac_coder: str = "fast"
    # The AAC's rate for a chapter whose voices all speak at this rate or lower (Piper 22.05 kHz;
    # Kokoro, StyleTTS2 and OpenAI 24 kHz): such a voice has nothing above 12 kHz to keep, and
    # at 24 kHz the encoder spends 0.78x the CPU of 44.1 kHz, with less coding noise in the
    # speech band (bench/encoder_bench.py). Wider voices keep `sample_rate`.
    aac_speech_rate: int = 24_000
    # LAME's quality level (-q, 0 best .. 9 fastest; None: LAME's default, 3). At 192 kbit/s
    # mono, 7 encodes speech 1.6x faster than the default with less noise by every waveform
    # measure of bench/encoder_bench.py, and the same peaks.
    mp3_quality: int | None = 7
    max_file_minutes: float = 120.0  # longest single MP3; longer chapters are split
    m4b_max_hours: float = 23.0  # longest single M4B; longer books are split at chapters
    m4b_max_bytes: int = 4_000_000_000
    m4b_min_part_minutes: float = 60.0
    sample_min_s: float = 60.0  # retail sample
    sample_max_s: float = 300.0
    sample_target_s: float = 180.0

    @property
    def target_rms_db(self) -> float:
        """The middle of the RMS window: leaves room either side for the limiter and the encoder."""
        return (self.rms_min_db + self.rms_max_db) / 2

    @property
    def limiter_ceiling_db(self) -> float:
        """A little under the peak limit: lossy encoding adds a few tenths of a dB of overshoot."""
        return self.peak_max_db - 0.5

    def with_overrides(self, **changes: object) -> DeliveryProfile:
        return replace(self, **changes)  # type: ignore[arg-type]


ACX = DeliveryProfile(name="acx", label="ACX (Audible)")
FINDAWAY = DeliveryProfile(name="findaway", label="Findaway Voices / INaudio")
# Google Play accepts 128 kbit/s and up; it has no RMS window of its own, so keep ACX's loudness
# (a book mastered once then plays evenly everywhere) but allow longer files and tails.
GOOGLE_PLAY = DeliveryProfile(
    name="google_play",
    label="Google Play Books",
    mp3_bitrate_kbps=192,
    tail_max_s=10.0,
    max_file_minutes=240.0,
)
# Apple Books: a track at most 23 h, longer books in tracks of at least 60 min, constant bit rate.
APPLE_BOOKS = DeliveryProfile(
    name="apple_books",
    label="Apple Books",
    max_file_minutes=23 * 60.0,
    aac_bitrate_kbps=64,
)

PROFILES: dict[str, DeliveryProfile] = {
    p.name: p for p in (ACX, FINDAWAY, GOOGLE_PLAY, APPLE_BOOKS)
}
DEFAULT_PROFILE = ACX


def get_profile(name: str | None) -> DeliveryProfile:
    """The built-in profile called `name` ("acx" when empty); unknown names are the user's error."""
    key = (name or DEFAULT_PROFILE.name).strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return PROFILES[key]
    except KeyError:
        raise StudioError(
            None,
            f"unknown delivery profile {name!r}",
            f"use one of: {', '.join(sorted(PROFILES))}",
        ) from None
