"""A local stand-in for a Supabase project, over HTTP on 127.0.0.1, backed by real PostgreSQL.

It answers the subset of Supabase's APIs that supabase-py and the studio send:
- REST (a PostgREST subset): select with eq/neq/gt/gte/lt/lte/in/is filters, order and limit;
  insert; upsert with on_conflict (merge or ignore duplicates); update; delete; rpc.
- Auth: signup, token (password and refresh_token grants), otp + verify (magic link), user,
  logout. Tokens are HS256 JWTs signed with the stand-in's secret.
- Storage: TUS resumable upload (create, HEAD, PATCH) and object download.

Every request runs in its own transaction as the JWT's role with `request.jwt.claims` set, as
PostgREST does, so Row Level Security is enforced by PostgreSQL itself.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt
import psycopg
from psycopg import sql

from pipelines.sync.client import MemorySessionStore, Remote, SyncConfig
from tests.sync.pg import Database

SECRET = "stand-in-jwt-secret-for-tests-only-0123456789"
OPS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def make_key(role: str) -> str:
    return jwt.encode({"role": role, "iss": "standin"}, SECRET, algorithm="HS256")


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class StandIn:
    def __init__(self, db: Database, files: Path, *, token_ttl_s: int = 3600) -> None:
        self.db = db
        self.files = files
        self.token_ttl_s = token_ttl_s
        self.anon_key = make_key("anon")
        self.mailbox: dict[str, str] = {}  # email -> the last magic-link token sent
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> user id
        self.uploads: dict[str, dict[str, Any]] = {}  # TUS upload id -> its state
        self.requests: list[tuple[str, str]] = []
        # Test hook: answer the next N writes with 503 after they committed (a lost response).
        self.lose_responses = 0
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"standin": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- auth ----------------------------------------------------------------------------------

    def _user(self, user_id: str) -> dict[str, Any]:
        with self.db.connect() as conn:
            row = conn.execute(
                "select email, created_at from auth.users where id = %s", (user_id,)
            ).fetchone()
        if row is None:
            raise HttpError(401, "user not found")
        return {
            "id": user_id,
            "aud": "authenticated",
            "role": "authenticated",
            "email": row[0],
            "app_metadata": {"provider": "email"},
            "user_metadata": {},
            "created_at": row[1].isoformat(),
        }

    def session(self, user_id: str) -> dict[str, Any]:
        now = int(time.time())
        claims = {"sub": user_id, "role": "authenticated", "aud": "authenticated"}
        token = jwt.encode(claims | {"exp": now + self.token_ttl_s, "iat": now}, SECRET, "HS256")
        refresh = secrets.token_urlsafe(24)
        with self._lock:
            self.refresh_tokens[refresh] = user_id
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.token_ttl_s,
            "expires_at": now + self.token_ttl_s,
            "refresh_token": refresh,
            "user": self._user(user_id),
        }

    def create_user(self, email: str, password: str) -> str:
        return self.db.create_user(email, password)

    def signed_in(self, email: str, password: str) -> Remote:
        """The real supabase client pointed here, signed in as `email`, its session in memory."""
        remote = Remote(SyncConfig(self.url, self.anon_key), MemorySessionStore())
        remote.sign_in_password(email, password)
        return remote

    def auth(self, method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if path == "signup":
            user_id = self.create_user(body["email"], body["password"])
            return self.session(user_id)
        if path == "token" and query.get("grant_type") == "password":
            with self.db.connect() as conn:
                row = conn.execute(
                    "select id from auth.users where email = %s and"
                    " password = encode(sha256(convert_to(%s, 'UTF8')), 'hex')",
                    (body.get("email"), body.get("password")),
                ).fetchone()
            if row is None:
                raise HttpError(400, "Invalid login credentials")
            return self.session(str(row[0]))
        if path == "token" and query.get("grant_type") == "refresh_token":
            with self._lock:
                user_id = self.refresh_tokens.pop(body.get("refresh_token", ""), None)
            if user_id is None:
                raise HttpError(400, "Invalid Refresh Token")
            return self.session(user_id)
        if path == "otp":
            email = body["email"]
            with self.db.connect() as conn:
                known = conn.execute("select 1 from auth.users where email = %s", (email,))
                if known.fetchone() is None and body.get("create_user", True):
                    self.create_user(email, secrets.token_urlsafe(12))
            self.mailbox[email] = f"{secrets.randbelow(10**6):06d}"
            return {}
        if path == "verify":
            email = body.get("email", "")
            if not email or self.mailbox.pop(email, None) != body.get("token"):
                raise HttpError(403, "Token has expired or is invalid")
            with self.db.connect() as conn:
                row = conn.execute("select id from auth.users where email = %s", (email,))
                found = row.fetchone()
            assert found is not None
            return self.session(str(found[0]))
        if path == "user":
            return self._user(str(self.claims["sub"]))
        if path == "logout":
            return None
        raise HttpError(404, f"no auth endpoint {path}")

    # -- rest ----------------------------------------------------------------------------------

    def rest(self, method: str, path: str, params: list[tuple[str, str]], body: Any, prefer: str):
        claims = self.claims
        with self.db.connect() as conn, conn.transaction():
            conn.execute("select set_config('role', %s, true)", (claims.get("role", "anon"),))
            conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
            try:
                if path.startswith("rpc/"):
                    return self._rpc(conn, path[4:], body or {})
                return self._table(conn, method, path, params, body, prefer)
            except psycopg.errors.InsufficientPrivilege as exc:
                raise HttpError(403, str(exc)) from None
            except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
                raise HttpError(409, str(exc)) from None

    def _rpc(self, conn: Any, name: str, args: dict[str, Any]) -> Any:
        row = conn.execute(
            "select proretset from pg_proc"
            " where proname = %s and pronamespace = 'public'::regnamespace",
            (name,),
        ).fetchone()
        if row is None:
            raise HttpError(404, f"no function {name}")
        call = sql.SQL("{}({})").format(
            sql.Identifier("public", name),
            sql.SQL(", ").join(
                sql.SQL("{} => {}").format(sql.Identifier(k), sql.Placeholder()) for k in args
            ),
        )
        values = [_as_text(v) for v in args.values()]
        if row[0]:
            query = sql.SQL("select coalesce(json_agg(t), '[]'::json) from {} t").format(call)
        else:
            query = sql.SQL("select to_json({})").format(call)
        return conn.execute(query, values).fetchone()[0]

    def _table(self, conn, method, table, params, body, prefer):  # type: ignore[no-untyped-def]
        ident = sql.Identifier("public", table)
        where, values = [], []
        order, limit, on_conflict = None, None, None
        for key, value in params:
            if key in ("select", "columns"):
                continue
            if key == "order":
                col, _, direction = value.partition(".")
                order = sql.SQL("order by {} {}").format(
                    sql.Identifier(col), sql.SQL("desc" if direction.startswith("desc") else "asc")
                )
            elif key == "limit":
                limit = int(value)
            elif key == "on_conflict":
                on_conflict = value.split(",")
            else:
                op, _, operand = value.partition(".")
                col = sql.Identifier(key)
                if op in OPS:
                    where.append(sql.SQL("{}::text {} %s").format(col, sql.SQL(OPS[op])))
                    values.append(operand)
                elif op == "in":
                    items = [i.strip('"') for i in operand.strip("()").split(",") if i]
                    where.append(sql.SQL("{}::text = any(%s)").format(col))
                    values.append(items)
                elif op == "is":
                    where.append(sql.SQL("{} is null").format(col))
                else:
                    raise HttpError(400, f"unsupported filter {op}")
        cond = sql.SQL(" where ") + sql.SQL(" and ").join(where) if where else sql.SQL("")
        tail = sql.SQL(" ")
        if order is not None:
            tail += order
        if limit is not None:
            tail += sql.SQL(f" limit {limit}")
        if method == "GET":
            q = sql.SQL("select coalesce(json_agg(t), '[]'::json) from (select * from {}{}{}) t")
            return conn.execute(q.format(ident, cond, tail), values).fetchone()[0]
        if method == "DELETE":
            q = sql.SQL(
                "with t as (delete from {}{} returning *) select coalesce(json_agg(t), '[]') from t"
            )
            return conn.execute(q.format(ident, cond), values).fetchone()[0]
        if method == "PATCH":
            cols = [sql.Identifier(c) for c in body]
            q = sql.SQL(
                "with t as (update {} set ({}) ="
                " (select {} from json_populate_record(null::{}, %s))"
                "{} returning *) select coalesce(json_agg(t), '[]') from t"
            ).format(ident, sql.SQL(", ").join(cols), sql.SQL(", ").join(cols), ident, cond)
            return conn.execute(q, [json.dumps(body), *values]).fetchone()[0]
        if method == "POST":
            rows = body if isinstance(body, list) else [body]
            names = list(dict.fromkeys(k for r in rows for k in r))
            cols = sql.SQL(", ").join(sql.Identifier(c) for c in names)
            conflict = sql.SQL("")
            if "resolution=" in prefer:
                target = on_conflict or ["id"]
                tcols = sql.SQL(", ").join(sql.Identifier(c) for c in target)
                if "ignore-duplicates" in prefer:
                    conflict = sql.SQL(" on conflict ({}) do nothing").format(tcols)
                else:
                    sets = sql.SQL(", ").join(
                        sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c))
                        for c in names
                        if c not in target
                    )
                    conflict = sql.SQL(" on conflict ({}) do update set {}").format(tcols, sets)
            q = sql.SQL(
                "with t as (insert into {} ({})"
                " select {} from json_populate_recordset(null::{}, %s)"
                "{} returning *) select coalesce(json_agg(t), '[]') from t"
            ).format(ident, cols, cols, ident, conflict)
            return conn.execute(q, [json.dumps(rows)]).fetchone()[0]
        raise HttpError(405, method)

    # -- storage -------------------------------------------------------------------------------

    def storage(
        self, handler: _Handler, method: str, path: str
    ) -> tuple[int, dict[str, str], bytes]:
        if path == "upload/resumable" and method == "POST":
            meta = dict(
                (k, base64.b64decode(v).decode())
                for k, v in (p.split(" ") for p in handler.headers["Upload-Metadata"].split(","))
            )
            upload_id = uuid.uuid4().hex
            self.uploads[upload_id] = {
                "bucket": meta["bucketName"],
                "name": meta["objectName"],
                "type": meta.get("contentType", "application/octet-stream"),
                "length": int(handler.headers["Upload-Length"]),
                "claims": self.claims,
                "data": bytearray(),
            }
            location = f"{self.url}/storage/v1/upload/resumable/{upload_id}"
            return 201, {"Location": location, "Tus-Resumable": "1.0.0"}, b""
        if path.startswith("upload/resumable/"):
            upload = self.uploads.get(path.rsplit("/", 1)[1])
            if upload is None or upload["claims"].get("sub") != self.claims.get("sub"):
                return 404, {}, b""
            if method == "HEAD":
                headers = {"Upload-Offset": str(len(upload["data"])), "Tus-Resumable": "1.0.0"}
                return 200, headers | {"Upload-Length": str(upload["length"])}, b""
            if method == "PATCH":
                offset = int(handler.headers["Upload-Offset"])
                if offset != len(upload["data"]):
                    return 409, {}, b""
                upload["data"] += handler.body
                if len(upload["data"]) >= upload["length"]:
                    self._store(upload)
                return 204, {"Upload-Offset": str(len(upload["data"]))}, b""
        if path.startswith("object/") and method == "GET":
            bucket, _, name = path[len("object/") :].partition("/")
            with self.db.as_user(self.claims.get("sub"), self.claims.get("role", "anon")) as conn:
                row = conn.execute(
                    "select id from storage.objects where bucket_id = %s and name = %s",
                    (bucket, name),
                ).fetchone()
            if row is None:
                return 400, {}, json.dumps({"statusCode": "404", "error": "not_found"}).encode()
            return (
                200,
                {"Content-Type": "application/octet-stream"},
                (self.files / str(row[0])).read_bytes(),
            )
        return 404, {}, b""

    def _store(self, upload: dict[str, Any]) -> None:
        claims = upload["claims"]
        with self.db.as_user(claims.get("sub"), claims.get("role", "anon")) as conn:
            row = conn.execute(
                "insert into storage.objects (bucket_id, name, size, content_type)"
                " values (%s, %s, %s, %s) on conflict (bucket_id, name) do update set"
                " size = excluded.size, updated_at = now() returning id",
                (upload["bucket"], upload["name"], upload["length"], upload["type"]),
            ).fetchone()
        self.files.mkdir(parents=True, exist_ok=True)
        (self.files / str(row[0])).write_bytes(bytes(upload["data"]))

    @property
    def claims(self) -> dict[str, Any]:
        return _local.claims


_local = threading.local()


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn
    body: bytes = b""
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _claims(self) -> dict[str, Any]:
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or self.headers.get("apikey", "")
        try:
            return jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.PyJWTError as exc:
            raise HttpError(401, f"invalid JWT: {exc}") from None

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        params = parse_qsl(parts.query, keep_blank_values=True)
        standin = self.standin
        standin.requests.append((self.command, path))
        try:
            _local.claims = self._claims()
            if path.startswith("/storage/v1/"):
                status, headers, payload = standin.storage(self, self.command, path[12:])
                return self._send(status, payload, headers)
            body = json.loads(self.body) if self.body else None
            if path.startswith("/auth/v1/"):
                result = standin.auth(self.command, path[9:], dict(params), body)
            elif path.startswith("/rest/v1/"):
                prefer = self.headers.get("Prefer", "")
                result = standin.rest(self.command, path[9:], params, body, prefer)
                if self.command != "GET" and standin.lose_responses > 0:
                    standin.lose_responses -= 1
                    raise HttpError(503, "the response was lost on the way back")
            else:
                raise HttpError(404, path)
        except HttpError as exc:
            payload = json.dumps({"message": str(exc), "msg": str(exc), "code": str(exc.status)})
            return self._send(exc.status, payload.encode(), {"Content-Type": "application/json"})
        if result is None:
            return self._send(204, b"", {})
        return self._send(200, json.dumps(result).encode(), {"Content-Type": "application/json"})

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = do_HEAD = do_PUT = _handle
