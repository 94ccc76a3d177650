"""A stand-in for the ElevenLabs API: text to speech, voices, models, the subscription,
pronunciation dictionaries and instant voice cloning, in the documented shapes, checking what it
is sent (key, voice, model limits, voice settings, stitching, formats the plan allows, dictionary
locators, samples). Each instance keeps its own models and voices, so a test may change them.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from email.parser import BytesParser
from email.policy import default as email_policy
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse
from xml.etree import ElementTree as ET

from tests.standins.common import JsonHandler, StandIn, speech_like, to_s16le

MODELS = {
    "eleven_v4": (10_000, 1.0),
    "eleven_v4_turbo": (10_000, 0.5),
    "eleven_multilingual_v2": (10_000, 1.0),
    "eleven_v3": (5_000, 1.0),
    "eleven_flash_v2_5": (40_000, 0.5),
    "eleven_turbo_v2_5": (40_000, 0.5),
}
VOICES = [
    ("21m00Tcm4TlvDq8ikWAM", "Rachel", "premade", {"gender": "female", "accent": "american"}),
    ("pNInz6obpgDQGcFmaJgB", "Adam", "premade", {"gender": "male", "accent": "american"}),
    ("cl0n3dV01ce0000000001", "My Narrator", "cloned", {"language": "en"}),
]
TIER_RANK = ["free", "starter", "creator", "pro", "scale", "business"]
SETTING_RANGES = {
    "stability": (0, 1), "similarity_boost": (0, 1), "style": (0, 1), "speed": (0.7, 1.2),
}  # fmt: skip


def _detail(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, {"detail": {"status": code, "message": message}}


class ElevenLabsHandler(JsonHandler):
    def _authorized(self) -> bool:
        if self.headers.get("xi-api-key") == self.owner.api_key:
            return True
        self.send_json(*_detail(401, "invalid_api_key", "Invalid API key"))
        return False

    def do_GET(self) -> None:
        path = urlparse(self.path).path
        if not self._authorized():
            return
        self.owner.count(path)
        if path == "/v1/voices":
            with self.owner.lock:
                voices = [_voice(*v) for v in self.owner.voices]
            self.send_json(200, {"voices": voices})
        elif path == "/v1/models":
            with self.owner.lock:
                models = [_model(m, *spec) for m, spec in self.owner.models.items()]
            self.send_json(200, models)
        elif path == "/v1/user/subscription":
            self.send_json(200, _subscription(self.owner.tier))
        elif path == "/v1/pronunciation-dictionaries":
            with self.owner.lock:
                items = list(self.owner.dictionaries.values())
            self.send_json(200, {"pronunciation_dictionaries": items, "has_more": False,
                                 "next_cursor": None})  # fmt: skip
        else:
            self.send_json(*_detail(404, "not_found", "Unknown path"))

    def do_POST(self) -> None:
        url = urlparse(self.path)
        raw = self.read_body()
        if not self._authorized():
            return
        if url.path == "/v1/pronunciation-dictionaries/add-from-file":
            self._add_dictionary(raw)
            return
        if url.path == "/v1/voices/add":
            self._add_voice(raw)
            return
        match = re.fullmatch(r"/v1/text-to-speech/([^/]+)", url.path)
        if not match:
            self.send_json(*_detail(404, "not_found", "Unknown path"))
            return
        voice_id = unquote(match.group(1))
        fmt = parse_qs(url.query).get("output_format", ["mp3_44100_128"])[0]
        try:
            body = json.loads(raw)
        except ValueError:
            self.send_json(*_detail(400, "invalid_json", "The body is not JSON"))
            return
        problem = self._problem(voice_id, fmt, body)
        if problem:
            self.send_json(*problem)
            return
        self.owner.record({"voice_id": voice_id, "output_format": fmt, **body})
        fault = self.owner.next_fault()
        if fault and fault.kind != "drop":
            self._send_fault(fault.kind, fault.retry_after)
            return
        data, ctype = _render(body["text"], fmt)
        request_id = self.owner.new_request_id()
        model = body.get("model_id", "eleven_multilingual_v2")
        cost = round(len(body["text"]) * self.owner.models[model][1])
        headers = {"request-id": request_id, "character-cost": str(cost)}
        self.send_audio(data, ctype, drop=fault is not None and fault.kind == "drop",
                        headers=headers)  # fmt: skip

    def _problem(self, voice_id: str, fmt: str, body: Any) -> tuple[int, Any] | None:
        with self.owner.lock:
            known = {v[0] for v in self.owner.voices}
            models = dict(self.owner.models)
        if voice_id not in known:
            return _detail(404, "voice_not_found", f"A voice with id {voice_id} was not found")
        model = body.get("model_id", "eleven_multilingual_v2")
        if model not in models:
            return _detail(400, "model_not_found", f"Model {model} does not exist")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return 422, {"detail": [{"loc": ["body", "text"], "msg": "field required"}]}
        if len(text) > models[model][0]:
            return _detail(400, "max_character_limit_exceeded", "Text is too long")
        rank = TIER_RANK.index(self.owner.tier)
        codec, rate = fmt.split("_")[0], int(fmt.split("_")[1])
        if (codec in ("pcm", "wav") and rate >= 44100 and rank < 3) or (
            fmt == "mp3_44100_192" and rank < 2
        ):
            return _detail(403, "output_format_not_allowed",
                           f"{fmt} is not available on the {self.owner.tier} plan")  # fmt: skip
        stitched = any(body.get(k) for k in ("previous_text", "next_text", "previous_request_ids"))
        if stitched and model == "eleven_v3":
            return _detail(400, "unsupported_model", "Request stitching is not available")
        for key in ("previous_request_ids", "next_request_ids"):
            ids = body.get(key) or []
            if len(ids) > 3 or any(i not in self.owner.issued for i in ids):
                return _detail(400, "invalid_request_ids", f"{key}: unknown or more than 3")
        for name, value in (body.get("voice_settings") or {}).items():
            lo, hi = SETTING_RANGES.get(name, (None, None))
            if lo is not None and not lo <= value <= hi:
                return _detail(400, "invalid_voice_settings", f"{name} out of range")
        locators = body.get("pronunciation_dictionary_locators") or []
        if len(locators) > 3:
            return _detail(400, "too_many_dictionaries", "At most 3 locators")
        for loc in locators:
            known = self.owner.dictionaries.get(loc.get("pronunciation_dictionary_id"))
            if known is None or loc.get("version_id") != known["latest_version_id"]:
                return _detail(400, "dictionary_not_found", "Unknown dictionary or version")
        return None

    def _send_fault(self, kind: str, retry_after: float | None) -> None:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        answers = {
            "rate_limit": _detail(429, "rate_limit_exceeded", "Too many requests"),
            "concurrent": _detail(429, "too_many_concurrent_requests", "Too many concurrent"),
            "busy": _detail(429, "system_busy", "The system is busy"),
            "revoked": _detail(401, "invalid_api_key", "Invalid API key"),
            "quota": _detail(401, "quota_exceeded", "This request exceeds your quota."),
            "payment": _detail(402, "payment_required", "Payment required"),
            "server_error": _detail(500, "internal_error", "Internal error"),
        }
        self.send_json(*answers[kind], headers)

    def _parts(self, raw: bytes) -> list[tuple[str, str, bytes]]:
        """A multipart body's parts: (field name, content type, bytes)."""
        ctype = self.headers.get("Content-Type", "")
        message = BytesParser(policy=email_policy).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + raw
        )
        return [
            (str(part.get_param("name", header="content-disposition")),
             part.get_content_type(), part.get_payload(decode=True) or b"")
            for part in message.iter_parts()
        ]  # fmt: skip

    def _add_dictionary(self, raw: bytes) -> None:
        fields = {name: data for name, _, data in self._parts(raw)}
        try:
            root = ET.fromstring(fields.get("file") or b"")
            rules = len([e for e in root.iter() if e.tag.endswith("lexeme")])
        except ET.ParseError:
            self.send_json(*_detail(400, "invalid_pls", "The file is not a PLS lexicon"))
            return
        name = (fields.get("name") or b"").decode()
        made = self.owner.add_dictionary(name, rules)
        self.send_json(200, {"id": made["id"], "name": name, "created_by": "standin",
                             "creation_time_unix": made["creation_time_unix"],
                             "version_id": made["latest_version_id"],
                             "version_rules_num": rules})  # fmt: skip

    def _add_voice(self, raw: bytes) -> None:
        """Instant voice cloning: a name and one or more audio samples, as multipart."""
        parts = self._parts(raw)
        fields = {name: data for name, _, data in parts if name != "files"}
        samples = [(kind, data) for name, kind, data in parts if name == "files"]
        name = (fields.get("name") or b"").decode().strip()
        if not name:
            self.send_json(*_detail(422, "missing_name", "A voice needs a name"))
            return
        if not samples:
            self.send_json(*_detail(422, "missing_files", "At least one sample is required"))
            return
        for kind, data in samples:
            if not kind.startswith("audio/") or not _is_audio(data):
                self.send_json(*_detail(400, "invalid_sample", "A sample is not audio"))
                return
        voice_id = self.owner.add_voice(name, (fields.get("description") or b"").decode())
        self.send_json(200, {"voice_id": voice_id, "requires_verification": False})


def _is_audio(data: bytes) -> bool:
    """Whether ffmpeg decodes at least a second of sound from `data`."""
    from pipelines.audio.ffmpeg_io import ffmpeg_exe

    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", "8000",
         "pipe:1"], input=data, capture_output=True, check=False,
    )  # fmt: skip
    return out.returncode == 0 and len(out.stdout) >= 2 * 8000


def _render(text: str, fmt: str) -> tuple[bytes, str]:
    codec, rate = fmt.split("_")[0], int(fmt.split("_")[1])
    pcm = to_s16le(speech_like(text, rate))
    if codec == "pcm":
        return pcm, "audio/pcm"
    from pipelines.audio.ffmpeg_io import ffmpeg_exe

    kbps = fmt.split("_")[2] if fmt.count("_") >= 2 else "128"
    mp3 = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0",
         "-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-f", "mp3", "pipe:1"],
        input=pcm, capture_output=True, check=True,
    ).stdout  # fmt: skip
    return mp3, "audio/mpeg"


def _voice(voice_id: str, name: str, category: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "voice_id": voice_id,
        "name": name,
        "category": category,
        "labels": labels,
        "settings": {"stability": 0.5, "similarity_boost": 0.75, "style": 0.0,
                     "use_speaker_boost": True, "speed": 1.0},
        "verified_languages": [{"language": "en", "model_id": "eleven_multilingual_v2"}],
    }  # fmt: skip


def _model(model_id: str, limit: int, factor: float) -> dict[str, Any]:
    return {
        "model_id": model_id,
        "name": model_id.replace("_", " ").title(),
        "can_do_text_to_speech": True,
        "can_use_style": True,
        "can_use_speaker_boost": True,
        "maximum_text_length_per_request": limit,
        "max_characters_request_subscribed_user": limit,
        "model_rates": {"character_cost_multiplier": factor},
        "languages": [{"language_id": "en", "name": "English"}],
    }


def _subscription(tier: str) -> dict[str, Any]:
    return {
        "tier": tier, "character_count": 1200, "character_limit": 100_000,
        "max_credit_limit_extension": 0, "can_extend_character_limit": False,
        "allowed_to_extend_character_limit": False, "voice_slots_used": 1,
        "professional_voice_slots_used": 0, "professional_voice_slots_used_in_workspace": 0,
        "voice_limit": 30, "voice_add_edit_counter": 0, "professional_voice_limit": 1,
        "can_extend_voice_limit": False, "can_use_instant_voice_cloning": True,
        "can_use_professional_voice_cloning": False, "current_overage": {"amount": 0},
        "status": "active",
    }  # fmt: skip


class ElevenLabsStandIn(StandIn):
    handler = ElevenLabsHandler

    def __init__(self, api_key: str = "el-standin-0123456789abcdef", tier: str = "creator",
                 **kw: Any) -> None:  # fmt: skip
        self.tier = tier
        self.models = dict(MODELS)
        self.voices = list(VOICES)
        self.cloned: dict[str, str] = {}  # voice id -> the description it was made with
        self.gets: dict[str, int] = {}  # GET requests per path
        self.issued: set[str] = set()
        self.dictionaries: dict[str, dict[str, Any]] = {}
        self._counter = 0
        self._count_lock = threading.Lock()
        super().__init__(api_key, **kw)

    @property
    def base_url(self) -> str:
        return self.origin

    def new_request_id(self) -> str:
        with self._count_lock:
            self._counter += 1
            rid = f"req_{self._counter:06d}"
            self.issued.add(rid)
            return rid

    def count(self, path: str) -> None:
        with self.lock:
            self.gets[path] = self.gets.get(path, 0) + 1

    def add_voice(self, name: str, description: str) -> str:
        with self._count_lock:
            self._counter += 1
            voice_id = f"ivc{self._counter:018d}"
        with self.lock:
            self.voices.append((voice_id, name, "cloned", {"language": "en"}))
            self.cloned[voice_id] = description
        return voice_id

    def add_dictionary(self, name: str, rules: int) -> dict[str, Any]:
        with self._count_lock:
            self._counter += 1
            n = self._counter
        made = {"id": f"dict_{n}", "latest_version_id": f"ver_{n}", "latest_version_rules_num":
                rules, "name": name, "created_by": "standin",
                "creation_time_unix": int(time.time())}  # fmt: skip
        with self.lock:
            self.dictionaries[made["id"]] = made
        return made
