"""`login`, `logout`, `sync` and `worker`: the Supabase side of the command line."""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.core.errors import StudioError
from pipelines.core.paths import data_dir
from pipelines.store import Project

if TYPE_CHECKING:
    from pipelines.sync.client import Remote


def add_sync_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("login", help="sign in to your Supabase project (email and password)")
    p.add_argument("email")
    p.add_argument("--magic-link", action="store_true", help="mail a sign-in code instead")
    p.set_defaults(handler=cmd_login)
    p = sub.add_parser("logout", help="sign out and forget the stored session")
    p.set_defaults(handler=cmd_logout)
    p = sub.add_parser("sync", help="push the project's jobs and pull remote renders")
    p.add_argument("project", type=Path)
    p.add_argument("--workers", action="store_true", help="queue the chapters for render workers")
    p.add_argument("--voice", default="silence:default", help="engine:voice for --workers")
    p.add_argument(
        "--cancel",
        nargs="+",
        metavar="JOB",
        help="cancel worker jobs by id (a unique prefix is enough) or 'all' queued and running",
    )
    p.add_argument("--list", action="store_true", help="list the worker jobs after the pass")
    p.set_defaults(handler=cmd_sync)
    p = sub.add_parser("worker", help="render chapter jobs claimed from Supabase (headless)")
    p.add_argument("--name", default=f"{socket.gethostname()}")
    p.add_argument("--lease", type=int, default=60, help="seconds a claim lasts without news")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--once", action="store_true", help="stop when the queue is empty")
    p.add_argument("--synth-workers", type=int, default=None, help="chunks synthesized at once")
    p.set_defaults(handler=cmd_worker)


def cmd_login(args: argparse.Namespace) -> int:
    from pipelines.sync.client import KeyringSessionStore, Remote, SyncConfig

    remote = Remote(SyncConfig.from_env(), KeyringSessionStore())
    if args.magic_link:
        remote.send_magic_link(args.email)
        code = input("Code from the email: ").strip()
        remote.verify_magic_link(args.email, code)
    else:
        remote.sign_in_password(args.email, getpass.getpass("Password: "))
    print(f"Signed in as {args.email}")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from pipelines.sync.client import connect

    connect().sign_out()
    print("Signed out")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from pipelines.core.model import VoiceRef
    from pipelines.sync.passes import cancel_remote_jobs, queue_for_workers, remote_jobs, sync

    with Project.open(args.project) as project:
        if args.workers:
            engine, _, voice = args.voice.partition(":")
            ids = [c.id or 0 for c in project.chapters(with_blocks=False) if c.included]
            queue_for_workers(project, ids, VoiceRef(engine, voice or "default"))
        if args.cancel:
            jobs = remote_jobs(project)
            chosen: list[str] = []
            for wanted in args.cancel:
                if wanted == "all":
                    chosen += [j.id for j in jobs if j.state in ("queued", "running")]
                    continue
                matches = [j.id for j in jobs if j.id.startswith(wanted)]
                if len(matches) != 1:
                    raise StudioError(
                        args.project,
                        f"no single worker job starts with '{wanted}'",
                        "run: audiobook-studio sync PROJECT --list",
                    )
                chosen += matches
            print(f"{cancel_remote_jobs(project, chosen)} worker job(s) cancelled")
        try:
            remote = _connect()
        except StudioError as exc:  # offline or signed out: the changes wait in the project
            print(exc.message, file=sys.stderr)
            remote = None
        status = sync(project, remote)
        if args.list:
            for j in remote_jobs(project):
                landed = "  in the book" if j.downloaded else ""
                print(
                    f"{j.id[:8]}  {j.state:<9}  {j.progress * 100:3.0f}%  {j.worker or '-':<16}"
                    f"  {j.title}{landed}"
                )
    print(
        f"{'online' if status.online else 'offline'}; {status.pending} waiting to go up;"
        f" remote jobs running {status.remote_running}, done {status.remote_done}"
        + (f"; {status.message}" if status.message else "")
    )
    return 0 if status.online else 1


def _connect() -> Remote:
    """Signed in from the keyring, or (headless) from SUPABASE_EMAIL and SUPABASE_PASSWORD: a
    session made from a password in the environment stays in memory, out of the keyring."""
    import os

    from pipelines.sync.client import KeyringSessionStore, MemorySessionStore, SyncConfig, connect

    store = MemorySessionStore() if os.environ.get("SUPABASE_PASSWORD") else KeyringSessionStore()
    return connect(SyncConfig.from_env(), store)


def cmd_worker(args: argparse.Namespace) -> int:
    from pipelines.sync.worker import RemoteWorker

    remote = _connect()
    remote.user_id  # noqa: B018 - fails early with "not signed in"
    workdir = args.workdir or data_dir() / "worker"
    worker = RemoteWorker(
        remote, workdir, args.name, lease_s=args.lease, synth_workers=args.synth_workers
    )
    done = worker.run(idle_exit=args.once)
    print(f"{done} chapters rendered")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="audiobook-studio")
    add_sync_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    from pipelines.cli.crash import run_guarded
    from pipelines.core.secrets import settle_keyring

    settle_keyring()  # a keyring that cannot load fails each keyring call politely
    return run_guarded(args.handler, args, list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
