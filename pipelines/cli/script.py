"""The `script` and `cast` commands: what each voice will say, and who reads whom."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pipelines.core.errors import ProjectError
from pipelines.core.model import Chapter, Utterance, VoiceRef
from pipelines.store import Project


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _utterance_row(u: Utterance) -> dict[str, Any]:
    return {
        "text": u.text,
        "role": u.role.value,
        "speaker": u.speaker,
        "confidence": round(u.confidence, 2),
        "voice": str(u.voice) if u.voice else None,
        "pause": u.pause_after.value,
        "block": u.block_index,
    }


def _pick(chapters: list[Chapter], number: int | None, where: str) -> list[tuple[int, Chapter]]:
    numbered = list(enumerate(chapters, start=1))
    if number is None:
        return [(n, c) for n, c in numbered if c.included]
    if not 1 <= number <= len(chapters):
        raise ProjectError(
            where, f"there is no chapter {number}", f"Chapters are 1-{len(chapters)}."
        )
    return [numbered[number - 1]]


def cmd_script(args: argparse.Namespace) -> int:
    from pipelines.script.builder import ScriptOptions, build_script

    target = Path(args.target)
    out: list[dict[str, Any]] = []
    if Project.is_project(target):
        from pipelines.cast.casting import assign_voices, book_characters, corrections
        from pipelines.cast.lexicon import project_lexicon

        with Project.open(target) as project:
            book = project.load_book(with_blocks=False)
            options = ScriptOptions(
                lang=book.language,
                lexicon=project_lexicon(project),
                characters=book_characters(project),
                corrections=corrections(project),
            )
            for number, chapter in _pick(project.chapters(), args.chapter, str(target)):
                script = build_script(chapter, options)
                assign_voices(script, chapter.id or 0, project)
                out.append(_chapter_row(number, chapter, script))
    else:
        from pipelines.engines.defaults import default_narrator
        from pipelines.manuscript import load_book
        from pipelines.script.characters import find_characters

        book = load_book(target)
        characters = find_characters(b.text for c in book.body for b in c.blocks)
        options = ScriptOptions(lang=book.language, characters=characters)
        for number, chapter in _pick(book.chapters, args.chapter, str(target)):
            script = build_script(chapter, options)
            narrator = default_narrator()
            for u in script:
                u.voice = narrator  # a manuscript has no cast yet: the default narrator
            out.append(_chapter_row(number, chapter, script))
    if args.json:
        _print_json(out)
        return 0
    for chapter_row in out:
        print(f"# {chapter_row['number']}. {chapter_row['title']}")
        for u in chapter_row["utterances"]:
            who = (
                f"{u['speaker'] or '?'} ({u['confidence']:.2f})" if u["role"] == "dialogue" else ""
            )
            print(f"{u['role']:<9} {who:<28} {u['text']}")
    return 0


def _chapter_row(number: int, chapter: Chapter, script: list[Utterance]) -> dict[str, Any]:
    return {
        "number": number,
        "title": chapter.title,
        "utterances": [_utterance_row(u) for u in script],
    }


def _voice(spec: str | None) -> VoiceRef | None:
    if spec is None or spec.lower() in ("", "none", "-"):
        return None
    from pipelines.engines.registry import resolve_voice

    voice = VoiceRef.parse(spec)
    resolve_voice(voice)  # a typo fails here, with the voices on offer
    return voice


def cmd_cast(args: argparse.Namespace) -> int:
    from pipelines.cast import casting
    from pipelines.cast.voices import dialogue_voice, set_dialogue_voice, set_narrator

    with Project.open(Path(args.project)) as project:
        action = args.action
        if action == "mode":
            mode = casting.CastMode.parse(args.mode)
            if args.chapter is None:
                casting.set_book_mode(project, mode)
            else:
                chapter = project.chapter(args.chapter)
                casting.set_chapter_mode(project, chapter.id or 0, None if args.clear else mode)
        elif action == "narrator":
            voice = _voice(args.voice)
            if voice is None:
                raise ProjectError(args.project, "the narrator needs a voice", "Name one.")
            set_narrator(project, voice)
        elif action == "dialogue":
            set_dialogue_voice(project, _voice(args.voice))
        elif action == "unknown":
            casting.set_unknown_speaker_voice(project, _voice(args.voice))
        elif action == "voice":
            casting.set_character_voice(project, args.character, _voice(args.voice))
        elif action == "suggest":
            return _suggest(project, args)
        elif action in ("quotes", "correct"):
            return _quotes(project, args)
        elif action == "model-pass":
            from pipelines.cli.model_pass import cmd_model_pass

            return cmd_model_pass(project, args)
        from pipelines.cast.narrator import narrator_voice

        characters = casting.book_characters(project)
        voices = casting.character_voices(project)
        dialogue = dialogue_voice(project)
        summary: dict[str, Any] = {
            "mode": casting.book_mode(project).value,
            "chapter_modes": {
                str(cid): m.value for cid, m in casting.chapter_modes(project).items()
            },
            "narrator": str(narrator_voice(project)),
            "dialogue_voice": str(dialogue) if dialogue else None,
            "unknown_speaker_voice": (
                str(v) if (v := casting.unknown_speaker_voice(project)) else None
            ),
            "first_person_narrator": characters.narrator,
        }
        cast_rows = [
            {**c.to_dict(), "voice": str(voices[c.name]) if c.name in voices else None}
            for c in characters.characters
        ]
        summary["characters"] = cast_rows
    if args.json:
        _print_json(summary)
        return 0
    print(f"mode: {summary['mode']}   narrator: {summary['narrator']}")
    print(f"dialogue voice: {summary['dialogue_voice'] or '(narrator)'}")
    for c in cast_rows:
        print(f"{c['count']:6d}  {c['gender'] or '?':<6} {c['name']:<32} {c['voice'] or ''}")
    return 0


def _suggest(project: Project, args: argparse.Namespace) -> int:
    from pipelines.cast import casting
    from pipelines.cast.narrator import narrator_voice
    from pipelines.engines.base import Voice
    from pipelines.engines.registry import engine_names, get_engine

    voices: list[Voice] = []
    for name in engine_names():
        if name == "silence" or (args.engine and name != args.engine):
            continue
        try:
            voices += get_engine(name).voices()
        except Exception:  # a cloud engine without a key or network offers no voices now
            continue
    suggestion = casting.suggest_voices(
        casting.book_characters(project), voices, narrator_voice(project)
    )
    if args.apply:
        for name, voice in suggestion.items():
            casting.set_character_voice(project, name, voice)
    _print_json({name: str(v) for name, v in suggestion.items()})
    return 0


def _quotes(project: Project, args: argparse.Namespace) -> int:
    from pipelines.cast import casting

    chapters = _pick(project.chapters(), args.chapter, str(project.root))
    quotes = [(n, q) for n, c in chapters for q in casting.chapter_quotes(project, c)]
    if args.below is not None:
        quotes = [(n, q) for n, q in quotes if q.confidence < args.below]
    if args.action == "correct":
        if args.key:
            wanted = set(args.key)
            quotes = [(n, q) for n, q in quotes if q.key in wanted]
            missing = wanted - {q.key for _, q in quotes}
            if missing:
                raise ProjectError(
                    project.root,
                    f"no quotation with key {sorted(missing)[0]}",
                    "List them with `cast PROJECT quotes`.",
                )
        elif args.below is None:
            raise ProjectError(
                project.root, "say which quotations to correct", "Give --key or --below."
            )
        count = casting.correct_speakers(project, [q for _, q in quotes], args.speaker)
        _print_json({"corrected": count, "speaker": args.speaker})
        return 0
    _print_json([{"chapter": n, **q.to_dict()} for n, q in quotes])
    return 0


def add_script_commands(sub: Any) -> None:
    p = sub.add_parser("script", help="show the utterances a chapter will be read as")
    p.add_argument("target", metavar="FILE_OR_PROJECT")
    p.add_argument("--chapter", type=int, help="1-based chapter number (default: all included)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_script)

    p = sub.add_parser(
        "cast",
        help="casting mode, voices, characters and speaker corrections",
        description=(
            "Casting mode, voices, characters and speaker corrections. `quotes` lists the "
            "quotations with their speakers (the author's corrections first, then the optional "
            "model pass's answers, then the rules'); `model-pass` asks an OpenAI chat model "
            "about the unsettled ones, only once the book is opted in."
        ),
    )
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_cast, action="show")
    acts = p.add_subparsers(dest="action", metavar="ACTION")
    a = acts.add_parser("mode", help="single, dual or full, for the book or one chapter")
    a.add_argument("mode")
    a.add_argument("--chapter", type=int)
    a.add_argument("--clear", action="store_true", help="drop the chapter's own mode")
    a = acts.add_parser("narrator", help="the narrator's voice (ENGINE:VOICE)")
    a.add_argument("voice")
    a = acts.add_parser("dialogue", help="the dialogue voice in dual mode ('none' to clear)")
    a.add_argument("voice")
    a = acts.add_parser("unknown", help="full cast: the voice of speakers nobody cast")
    a.add_argument("voice")
    a = acts.add_parser("voice", help="full cast: a character's voice ('none' to clear)")
    a.add_argument("character")
    a.add_argument("voice")
    a = acts.add_parser("suggest", help="suggest character voices by gender")
    a.add_argument("--apply", action="store_true", help="store the suggestion")
    a.add_argument("--engine", help="only this engine's voices")
    a = acts.add_parser("quotes", help="list quotations with their speakers and keys")
    a.add_argument("--chapter", type=int)
    a.add_argument("--below", type=float, help="only those below this confidence")
    a = acts.add_parser("correct", help="set the speaker of quotations (by key, or in bulk)")
    a.add_argument("speaker")
    a.add_argument("--key", action="append", help="a quotation's key (repeatable)")
    a.add_argument("--chapter", type=int)
    a.add_argument("--below", type=float, help="every quotation below this confidence")
    from pipelines.cli.model_pass import add_model_pass_parser

    add_model_pass_parser(acts)
