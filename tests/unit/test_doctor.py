"""`pipelines.app.doctor`: each check with stand-ins for the machine, the real checks, the CLI."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipelines.app import doctor
from pipelines.app.doctor import Check
from pipelines.cli.downloads import add_model_commands

REPO = Path(__file__).resolve().parents[2]


def _without(*missing: str) -> doctor.FindLibrary:
    return lambda soname: None if soname in missing else soname


# -- system libraries ------------------------------------------------------------------------------


def test_a_missing_xcb_library_names_the_apt_and_dnf_packages() -> None:
    checks = doctor.check_desktop_libraries(
        _without("libxcb-cursor.so.0", "libxcb-icccm.so.4"), system="Linux"
    )
    assert len(checks) == 1
    check = checks[0]
    assert not check.ok and check.severity == "required"
    assert "libxcb-cursor.so.0" in check.detail and "libxcb-icccm.so.4" in check.detail
    assert check.fix is not None
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4" in check.fix
    assert "sudo dnf install xcb-util-cursor xcb-util-wm" in check.fix
    assert check.line().startswith("FIX  desktop libraries: missing libxcb-cursor.so.0")
    assert " — Debian/Ubuntu: sudo apt install" in check.line()


def test_packages_shared_by_several_libraries_are_named_once() -> None:
    check = doctor.check_desktop_libraries(
        _without("libxcb-shape.so.0", "libxcb-randr.so.0"), system="Linux"
    )[0]
    assert check.fix is not None
    assert check.fix.endswith("Fedora: sudo dnf install libxcb")  # one package ships both
    assert "libxcb-shape0 libxcb-randr0" in check.fix


def test_every_library_present_is_ok_and_other_systems_skip_the_check() -> None:
    ok = doctor.check_desktop_libraries(lambda s: s, system="Linux")
    assert [c.ok for c in ok] == [True]
    assert ok[0].line().startswith("ok   desktop libraries: ")
    assert doctor.check_desktop_libraries(lambda s: None, system="Darwin") == []
    assert doctor.check_audio(lambda s: None, {}, system="Windows") == []


# -- audio -----------------------------------------------------------------------------------------


def test_missing_libpulse_and_no_sound_server_say_playback_cannot_work(tmp_path: Path) -> None:
    lib, server = doctor.check_audio(
        _without("libpulse.so.0"), {"XDG_RUNTIME_DIR": str(tmp_path)}, system="Linux"
    )
    assert lib.name == "audio library" and not lib.ok and lib.severity == "optional"
    assert "libpulse.so.0" in lib.detail and "cannot play" in lib.detail
    assert lib.fix is not None and "sudo apt install libpulse0" in lib.fix
    assert "sudo dnf install pulseaudio-libs" in lib.fix and "export the chapter" in lib.fix
    assert server.name == "sound server" and not server.ok
    assert "previews and Listen cannot play" in server.detail
    assert server.fix is not None and "pipewire-pulse" in server.fix
    assert "play it elsewhere" in server.fix


def test_a_running_sound_server_is_found_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "pulse").mkdir()
    (tmp_path / "pulse" / "native").touch()
    lib, server = doctor.check_audio(
        lambda s: s, {"XDG_RUNTIME_DIR": str(tmp_path)}, system="Linux"
    )
    assert lib.ok and server.ok and "PulseAudio" in server.detail
    _, remote = doctor.check_audio(lambda s: s, {"PULSE_SERVER": "tcp:box:4713"}, system="Linux")
    assert remote.ok and "tcp:box:4713" in remote.detail


# -- keyring ---------------------------------------------------------------------------------------


def test_a_bogus_keyring_backend_is_a_failed_check_not_an_exception() -> None:
    check = doctor.check_keyring({"PYTHON_KEYRING_BACKEND": "nope.Bogus"}, system="Linux")
    assert check.name == "keyring" and not check.ok
    assert "PYTHON_KEYRING_BACKEND=nope.Bogus cannot be loaded" in check.detail
    assert check.fix is not None and "OPENAI_API_KEY / ELEVENLABS_API_KEY" in check.fix


def test_a_bogus_keyring_backend_leaves_the_key_store_refusing_not_crashing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import keyring.core

    from pipelines.core import secrets

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "nope.Bogus")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # resolve again, from the env
    status = secrets.keyring_status()
    assert not status.secure and "no secure keyring" in status.warning
    assert secrets.key_info("openai").source in ("", "environment")


def test_a_fallback_keyring_is_not_ok_and_names_the_fix() -> None:
    check = doctor.check_keyring(
        {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}, system="Linux"
    )
    assert not check.ok and "no secure keyring" in check.detail
    assert check.fix is not None and "GNOME Keyring" in check.fix and "KWallet" in check.fix
    assert "OPENAI_API_KEY" in check.fix


def test_a_secure_keyring_is_ok() -> None:
    class SecretService:
        name = "SecretService Keyring"
        priority = 5

    check = doctor.check_keyring({}, resolve=SecretService, system="Linux")
    assert check.ok and "SecretService Keyring" in check.detail


def test_a_keyring_that_fails_to_set_up_is_reported() -> None:
    def broken() -> object:
        raise RuntimeError("no D-Bus session")

    check = doctor.check_keyring({}, resolve=broken, system="Linux")
    assert not check.ok and "no D-Bus session" in check.detail and check.fix


# -- disk and ffmpeg -------------------------------------------------------------------------------


def test_low_disk_space_names_the_folder_and_the_number(tmp_path: Path) -> None:
    (check,) = doctor.check_disk([tmp_path], lambda p: SimpleNamespace(free=500_000_000))
    assert check.name == "disk space" and not check.ok and check.severity == "required"
    assert "0.5 GB free" in check.detail and str(tmp_path) in check.detail
    assert "at least 2 GB" in check.detail and check.fix


def test_enough_disk_space_is_ok_and_one_disk_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "projects").mkdir()
    checks = doctor.check_disk(
        [tmp_path, tmp_path / "projects"], lambda p: SimpleNamespace(free=50 * 10**9)
    )
    assert len(checks) == 1 and checks[0].ok
    assert "50.0 GB free" in checks[0].detail and "1 more folder" in checks[0].detail


def test_unreadable_free_space_is_reported(tmp_path: Path) -> None:
    def fails(path: Path) -> object:
        raise PermissionError(13, "Permission denied")

    (check,) = doctor.check_disk([tmp_path], fails)
    assert not check.ok and "cannot read free space" in check.detail


def test_an_ffmpeg_that_cannot_run_is_reported(tmp_path: Path) -> None:
    check = doctor.check_ffmpeg(lambda: str(tmp_path / "no-ffmpeg"))
    assert check.name == "ffmpeg" and not check.ok and check.fix


# -- the real machine ------------------------------------------------------------------------------


def test_the_real_checks_run_here_and_ffmpeg_is_ok() -> None:
    checks = doctor.run_checks()
    names = [c.name for c in checks]
    assert "keyring" in names and "disk space" in names and "engine piper" in names
    if sys.platform.startswith("linux"):
        assert "desktop libraries" in names and "audio library" in names
    ffmpeg = next(c for c in checks if c.name == "ffmpeg")
    assert ffmpeg.ok, ffmpeg.line()
    assert ffmpeg.detail.startswith("version ")
    assert next(c for c in checks if c.name == "engine piper").ok
    for check in checks:
        assert check.line().startswith("ok   " if check.ok else "FIX  ")
        assert check.ok or check.fix, check.line()
        json.dumps(check.as_dict())


def test_the_default_library_finder_loads_real_libraries() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux sonames")
    assert doctor.load_library("libc.so.6") == "libc.so.6"
    assert doctor.load_library("libdefinitely-not-here.so.9") is None


# -- the command -----------------------------------------------------------------------------------


def _doctor(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_model_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["doctor", *argv])
    code: int = args.handler(args)
    return code


@pytest.mark.parametrize(
    ("checks", "code"),
    [
        ([Check("ffmpeg", True, "version 7"), Check("keyring", False, "none", "x", "optional")], 0),
        ([Check("ffmpeg", True, "version 7"), Check("disk space", False, "0.1 GB", "free")], 1),
    ],
)
def test_doctor_exits_1_only_when_a_required_check_fails(
    checks: list[Check],
    code: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(doctor, "run_checks", lambda: checks)
    assert _doctor([]) == code
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "ok   ffmpeg: version 7"
    assert out[1].startswith("FIX  ") and " — " in out[1]


def test_doctor_json_with_a_bogus_keyring_backend(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "nope.Bogus",
        "AUDIOBOOK_STUDIO_HOME": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "main.py", "doctor", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "Traceback" not in result.stderr, result.stderr
    checks = json.loads(result.stdout)
    keyring = next(c for c in checks if c["name"] == "keyring")
    assert keyring["ok"] is False and "nope.Bogus" in keyring["detail"]
    assert set(checks[0]) == {"name", "ok", "detail", "fix", "severity", "group"}
    failed_required = [c for c in checks if not c["ok"] and c["severity"] == "required"]
    assert result.returncode == (1 if failed_required else 0)


def test_the_proof_listening_model_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.app.doctor import check_engines
    from pipelines.proof import whisper_files

    monkeypatch.setenv(whisper_files.MODEL_DIR_ENV, str(tmp_path))
    (check,) = [c for c in check_engines() if c.name == "proof-listening model"]
    assert not check.ok and check.severity == "optional"
    assert check.fix == "run `audiobook-studio models download whisper`"
