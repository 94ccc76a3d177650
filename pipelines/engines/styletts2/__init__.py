"""StyleTTS2: the local GPU voice, cloned from a reference recording.

Importing this package is cheap: torch, torchaudio and the `styletts2` package are imported only
when a model is loaded (`loader.py`), so listing engines or voices never pays for them.
"""

from __future__ import annotations

ENGINE_NAME = "styletts2"
SAMPLE_RATE = 24000
INSTALL_HINT = (
    "install the extra with `pip install 'audiobook-studio[styletts2]'`, "
    "then run `audiobook-studio models download styletts2`"
)
