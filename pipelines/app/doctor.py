"""First-run system checks: what this machine has, what it lacks, and the command that fixes it.

Headless (the CLI's `doctor` and the GUI's System check share it) and light: packages are found
with `importlib.util.find_spec`, torch is imported only when it is installed, and every probe
(library finder, disk usage, environment, ffmpeg) is a parameter so tests can stand in for the
machine.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import platform
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pipelines.core import paths, secrets

Severity = Literal["required", "optional"]
Group = Literal["system", "voices"]
FindLibrary = Callable[[str], str | None]
DiskUsage = Callable[[Path], Any]  # returns something with `.free`, like shutil.disk_usage

MIN_FREE_BYTES = 2 * 10**9  # a book's chunk cache, masters and exports take one to two GB
KEYRING_ENV = "PYTHON_KEYRING_BACKEND"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    severity: Severity = "required"
    group: Group = "system"  # "voices": engine availability, informational on a fresh install

    def line(self) -> str:
        """`ok   name: detail` or `FIX  name: detail — fix`."""
        if self.ok:
            return f"ok   {self.name}: {self.detail}"
        tail = f" — {self.fix}" if self.fix else ""
        return f"FIX  {self.name}: {self.detail}{tail}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def required_ok(checks: Iterable[Check]) -> bool:
    return all(c.ok for c in checks if c.severity == "required")


def needs_attention(checks: Iterable[Check]) -> list[Check]:
    """Failed checks worth showing unasked: required ones, and the machine's own (not engines)."""
    return [c for c in checks if not c.ok and (c.severity == "required" or c.group == "system")]


# -- system libraries (Linux) ------------------------------------------------------------------

# What PySide6's Qt/plugins/platforms/libqxcb.so (and libQt6XcbQpa) link against, with the
# package that ships each library on Debian/Ubuntu and on Fedora. libxcb-cursor0, -icccm4 and
# -keysyms1 are the ones minimal installs, containers and WSL most often lack.
DESKTOP_LIBRARIES: tuple[tuple[str, str, str], ...] = (
    ("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    ("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    ("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    ("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    ("libxcb-util.so.1", "libxcb-util1", "xcb-util"),
    ("libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    ("libxcb-randr.so.0", "libxcb-randr0", "libxcb"),
    ("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb"),
    ("libxcb-sync.so.1", "libxcb-sync1", "libxcb"),
    ("libxcb-shm.so.0", "libxcb-shm0", "libxcb"),
    ("libxcb-render.so.0", "libxcb-render0", "libxcb"),
    ("libxcb.so.1", "libxcb1", "libxcb"),
    ("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    ("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon"),
    ("libEGL.so.1", "libegl1", "libglvnd-egl"),
    ("libGL.so.1", "libgl1", "libglvnd-glx"),
    ("libfontconfig.so.1", "libfontconfig1", "fontconfig"),
)
# QtMultimedia (the studio's playback) links libpulse; PipeWire serves it through pipewire-pulse.
AUDIO_LIBRARY = ("libpulse.so.0", "libpulse0", "pulseaudio-libs")


def load_library(soname: str) -> str | None:
    """`soname` when the dynamic loader can load it (with its own dependencies), else None."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return None
    return soname


def install_fix(debian: Iterable[str], fedora: Iterable[str]) -> str:
    deb = " ".join(dict.fromkeys(debian))
    fed = " ".join(dict.fromkeys(fedora))
    return f"Debian/Ubuntu: sudo apt install {deb}; Fedora: sudo dnf install {fed}"


def check_desktop_libraries(
    find_library: FindLibrary = load_library, system: str | None = None
) -> list[Check]:
    """The system libraries Qt's X11 window plugin needs; nothing to check off Linux."""
    if (system or platform.system()) != "Linux":
        return []
    missing = [row for row in DESKTOP_LIBRARIES if find_library(row[0]) is None]
    if not missing:
        return [
            Check(
                "desktop libraries",
                True,
                f"all {len(DESKTOP_LIBRARIES)} libraries Qt's X11 window plugin needs are present",
            )
        ]
    names = ", ".join(row[0] for row in missing)
    return [
        Check(
            "desktop libraries",
            False,
            f"missing {names}: the studio's window cannot open on X11",
            install_fix((r[1] for r in missing), (r[2] for r in missing)),
        )
    ]


# -- audio ---------------------------------------------------------------------------------------


def check_audio(
    find_library: FindLibrary = load_library,
    environ: Mapping[str, str] | None = None,
    system: str | None = None,
    exists: Callable[[Path], bool] = Path.exists,
) -> list[Check]:
    """What can be told about playback without Qt: the audio library, and a sound server."""
    if (system or platform.system()) != "Linux":
        return []
    env = os.environ if environ is None else environ
    soname, deb, fed = AUDIO_LIBRARY
    out: list[Check] = []
    if find_library(soname) is None:
        out.append(
            Check(
                "audio library",
                False,
                f"{soname} is missing, so the studio cannot load audio playback: "
                "previews and Listen cannot play",
                install_fix([deb], [fed]) + "; or export the chapter and play it elsewhere",
                "optional",
            )
        )
    else:
        out.append(Check("audio library", True, f"{soname} found", None, "optional"))
    server = _sound_server(env, exists)
    if server:
        out.append(Check("sound server", True, server, None, "optional"))
    else:
        out.append(
            Check(
                "sound server",
                False,
                "no PulseAudio or PipeWire sound server is running for this user: "
                "previews and Listen cannot play",
                "start the desktop's sound server (PipeWire with pipewire-pulse, or PulseAudio: "
                "a desktop session runs one), connect or enable an output; or export the chapter "
                "and play it elsewhere",
                "optional",
            )
        )
    return out


def _sound_server(env: Mapping[str, str], exists: Callable[[Path], bool]) -> str:
    if env.get("PULSE_SERVER"):
        return f"PULSE_SERVER={env['PULSE_SERVER']}"
    runtime = env.get("XDG_RUNTIME_DIR")
    if not runtime:
        return ""
    for name, label in (("pulse/native", "PulseAudio"), ("pipewire-0", "PipeWire")):
        if exists(Path(runtime) / name):
            return f"{label} at {Path(runtime) / name}"
    return ""


# -- keyring ---------------------------------------------------------------------------------------


def _resolve_keyring(environ: Mapping[str, str]) -> object:
    import keyring
    import keyring.core

    name = environ.get(KEYRING_ENV, "").strip()
    if name:
        return keyring.core.load_keyring(name)
    return keyring.get_keyring()


def check_keyring(
    environ: Mapping[str, str] | None = None,
    resolve: Callable[[], object] | None = None,
    system: str | None = None,
) -> Check:
    """Which keyring backend API keys would go to; a fallback, or none, is not ok."""
    env = os.environ if environ is None else environ
    vars_ = " / ".join(secrets.PROVIDERS.values())
    headless = f"or set {vars_} in the environment for headless use"
    if (system or platform.system()) == "Linux":
        service = (
            "install and unlock a Secret Service keyring (GNOME Keyring: "
            "sudo apt install gnome-keyring, sudo dnf install gnome-keyring; or KWallet)"
        )
    else:
        service = "unlock the system keychain / Credential Manager"
    try:
        backend = resolve() if resolve is not None else _resolve_keyring(env)
    except Exception as exc:  # a bogus backend name raises ImportError, RuntimeError, ...
        named = env.get(KEYRING_ENV, "").strip()
        if named:
            detail = f"{KEYRING_ENV}={named} cannot be loaded ({type(exc).__name__}: {exc})"
            fix = f"unset {KEYRING_ENV} or name an installed backend; {headless}"
        else:
            detail = f"the keyring could not be set up ({type(exc).__name__}: {exc})"
            fix = f"{service}, {headless}"
        return Check("keyring", False, detail, fix, "optional")
    status = secrets.backend_status(backend)
    if status.secure:
        return Check("keyring", True, f"API keys go to {status.backend}", None, "optional")
    return Check(
        "keyring",
        False,
        f"no secure keyring (found '{status.backend}'): API keys cannot be stored",
        f"{service}, {headless}",
        "optional",
    )


# -- ffmpeg ----------------------------------------------------------------------------------------


def _imageio_ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def check_ffmpeg(ffmpeg_exe: Callable[[], str] = _imageio_ffmpeg) -> Check:
    """The bundled ffmpeg binary runs: every encode and export needs it."""
    fix = "reinstall the studio (pip install --force-reinstall imageio-ffmpeg)"
    try:
        exe = ffmpeg_exe()
        result = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        return Check("ffmpeg", False, f"ffmpeg cannot run ({exc})", fix)
    first = (result.stdout.splitlines() or [""])[0].strip()
    if result.returncode != 0 or not first.startswith("ffmpeg version"):
        return Check("ffmpeg", False, f"{exe} -version failed (exit {result.returncode})", fix)
    version = first.removeprefix("ffmpeg version ").split(" ", 1)[0]
    return Check("ffmpeg", True, f"version {version} ({exe})")


# -- disk space ------------------------------------------------------------------------------------


def data_folders() -> list[Path]:
    """Where the studio writes: the user data folder, its projects, and recent projects."""
    from pipelines.core import recent

    return [paths.data_dir(), paths.projects_dir(), *recent.projects()]


def check_disk(
    folders: Iterable[Path] | None = None,
    disk_usage: DiskUsage = shutil.disk_usage,
    min_free: int = MIN_FREE_BYTES,
) -> list[Check]:
    """Free space on each disk that holds projects or user data."""
    groups: dict[object, list[Path]] = {}
    for folder in dict.fromkeys(data_folders() if folders is None else folders):
        try:
            key: object = os.stat(folder).st_dev
        except OSError:
            key = folder
        groups.setdefault(key, []).append(folder)
    out = []
    for group in groups.values():
        more = len(group) - 1
        where = str(group[0]) + (f" (and {more} more folder{'s' * (more > 1)})" if more else "")
        try:
            free = int(disk_usage(group[0]).free)
        except OSError as exc:
            out.append(Check("disk space", False, f"cannot read free space of {where} ({exc})"))
            continue
        text = f"{free / 1e9:,.1f} GB free in {where}"
        if free >= min_free:
            out.append(Check("disk space", True, text))
        else:
            out.append(
                Check(
                    "disk space",
                    False,
                    f"only {text}; renders need at least {min_free / 1e9:.0f} GB",
                    "free space on that disk, or keep projects on a bigger one",
                )
            )
    return out


# -- engines ---------------------------------------------------------------------------------------

REQUIRED_ENGINES = {"piper"}  # the embedded offline voice, the default narrator


def check_engines() -> list[Check]:
    from pipelines.core.errors import StudioError
    from pipelines.engines.registry import check_engine, known_engine_names

    out = []
    for name in known_engine_names():
        severity: Severity = "required" if name in REQUIRED_ENGINES else "optional"
        try:
            check_engine(name)
        except StudioError as exc:
            fix = exc.fix or None
            out.append(Check(f"engine {name}", False, exc.problem, fix, severity, "voices"))
        else:
            out.append(Check(f"engine {name}", True, "available", None, severity, "voices"))
    return out + _styletts2_checks() + [_whisper_check()]


def _whisper_check() -> Check:
    from pipelines.proof import whisper_files

    root = whisper_files.model_root()
    if whisper_files.is_installed():
        return Check("proof-listening model", True, f"Whisper base in {root}", None, "optional")
    return Check(
        "proof-listening model",
        False,
        f"Whisper base not installed in {root}",
        "run `audiobook-studio models download whisper`",
        "optional",
        "voices",
    )


def _styletts2_checks() -> list[Check]:
    if importlib.util.find_spec("torch") is None:
        return []
    from pipelines.engines.styletts2 import files

    root = files.model_root()
    missing = files.ModelFiles(root).missing()
    if missing:
        model = Check(
            "styletts2 model",
            False,
            f"missing in {root}",
            "run `audiobook-studio models download styletts2`",
            "optional",
            "voices",
        )
    else:
        model = Check("styletts2 model", True, f"ready in {root}", None, "optional", "voices")
    voices = Check(
        "styletts2 voices",
        True,
        f"add reference clips to {paths.voices_dir('styletts2')}",
        None,
        "optional",
        "voices",
    )
    return [model, voices, _device_check()]


def _device_check() -> Check:
    import torch

    from pipelines.engines.styletts2.device import DEVICE_ENV, choose_device

    try:
        choice = choose_device(torch)
    except ValueError as exc:
        fix = f"set {DEVICE_ENV} to auto, cuda, mps or cpu"
        return Check("styletts2 device", False, str(exc), fix, "optional", "voices")
    if choice.kind == "cuda":
        props = torch.cuda.get_device_properties(choice.name)
        text = f"{choice.name} ({props.name}, {props.total_memory / (1 << 30):.0f} GiB)"
        return Check("styletts2 device", True, text, None, "optional", "voices")
    if choice.warning:
        # Works, only slowly: still ok, the detail says what to expect.
        text = f"{choice.name} — {choice.warning}"
        return Check("styletts2 device", True, text, None, "optional", "voices")
    return Check("styletts2 device", True, choice.name, None, "optional", "voices")


# -- all of them -----------------------------------------------------------------------------------


def run_checks(
    find_library: FindLibrary = load_library,
    environ: Mapping[str, str] | None = None,
    disk_usage: DiskUsage = shutil.disk_usage,
    folders: Iterable[Path] | None = None,
    system: str | None = None,
) -> list[Check]:
    """Every check, machine first, then the voices."""
    return [
        *check_desktop_libraries(find_library, system),
        *check_audio(find_library, environ, system),
        check_keyring(environ, system=system),
        check_ffmpeg(),
        *check_disk(folders, disk_usage),
        *check_engines(),
    ]
