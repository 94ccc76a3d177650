"""Versioned schema of the project database. Append new scripts; never edit a shipped one.

The index in MIGRATIONS + 1 is the schema version stored in `PRAGMA user_version`.
"""

from __future__ import annotations

V1_BOOK = """
CREATE TABLE book (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    title TEXT NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT 'en',
    narrator TEXT NOT NULL DEFAULT '',
    year TEXT NOT NULL DEFAULT '',
    genre TEXT NOT NULL DEFAULT 'Audiobook',
    description TEXT NOT NULL DEFAULT '',
    source_file TEXT,
    source_format TEXT,
    source_sha256 TEXT NOT NULL DEFAULT '',
    cover_file TEXT,
    imported_at TEXT NOT NULL,
    edited_fields TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE chapters (
    id INTEGER PRIMARY KEY,
    position INTEGER NOT NULL UNIQUE,
    title TEXT NOT NULL,
    original_title TEXT NOT NULL,
    kind TEXT NOT NULL,
    part TEXT,
    included INTEGER NOT NULL DEFAULT 1,
    excluded_reason TEXT,
    edited INTEGER NOT NULL DEFAULT 0,
    source_ref TEXT,
    source_line INTEGER,
    source_page INTEGER,
    source_index INTEGER
);
CREATE TABLE blocks (
    id INTEGER PRIMARY KEY,
    chapter_id INTEGER NOT NULL REFERENCES chapters(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    level INTEGER NOT NULL DEFAULT 0,
    text TEXT NOT NULL,
    source_ref TEXT,
    source_line INTEGER,
    source_page INTEGER,
    source_index INTEGER
);
CREATE INDEX blocks_by_chapter ON blocks(chapter_id, position);
CREATE TABLE lexicon (
    word TEXT PRIMARY KEY,
    spoken TEXT NOT NULL,
    case_sensitive INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
"""

V2_RENDER = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    chapter_id INTEGER NOT NULL REFERENCES chapters(id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'paused', 'done', 'failed', 'cancelled')),
    priority INTEGER NOT NULL DEFAULT 0,
    engine TEXT NOT NULL,
    voice TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    chunks_total INTEGER NOT NULL DEFAULT 0,
    chunks_done INTEGER NOT NULL DEFAULT 0,
    chars_total INTEGER NOT NULL DEFAULT 0,
    chars_done INTEGER NOT NULL DEFAULT 0,
    chars_synthesized INTEGER NOT NULL DEFAULT 0,
    progress REAL NOT NULL DEFAULT 0,
    eta_s REAL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX jobs_by_state ON jobs(state, priority DESC, id);
CREATE TABLE renders (
    chapter_id INTEGER PRIMARY KEY REFERENCES chapters(id) ON DELETE CASCADE,
    job_id INTEGER,
    script_hash TEXT NOT NULL,
    wav TEXT NOT NULL,
    spans TEXT NOT NULL DEFAULT '[]',
    duration_s REAL NOT NULL,
    acx TEXT NOT NULL DEFAULT '{}',
    acx_passed INTEGER NOT NULL DEFAULT 0,
    rendered_at TEXT NOT NULL
)
"""

# The author's corrections of who speaks a quotation, keyed by the quotation's text and its
# neighbourhood (see pipelines.script.attribution.quotation_key), so that they outlive the
# chapters and blocks a re-import replaces.
V3_SPEAKERS = """
CREATE TABLE speaker_corrections (
    quote_key TEXT PRIMARY KEY,
    speaker TEXT NOT NULL,
    quote_text TEXT NOT NULL DEFAULT '',
    corrected_at TEXT NOT NULL
)
"""

# Characters the provider bills for (cloud engines); zero for local voices.
V4_BILLING = """
ALTER TABLE jobs ADD COLUMN chars_billed INTEGER NOT NULL DEFAULT 0
"""

# Sync with a Supabase project: what was pushed (by content hash, so a push is repeated only for
# what changed) and the mirror of jobs run by render workers elsewhere.
V5_SYNC = """
CREATE TABLE sync_pushed (
    kind TEXT NOT NULL,
    local_key TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    pushed_hash TEXT NOT NULL,
    PRIMARY KEY (kind, local_key)
);
CREATE TABLE remote_jobs (
    id TEXT PRIMARY KEY,
    chapter_id INTEGER NOT NULL REFERENCES chapters(id) ON DELETE CASCADE,
    engine TEXT NOT NULL,
    voice TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    priority INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'queued',
    progress REAL NOT NULL DEFAULT 0,
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    audio_path TEXT,
    duration_s REAL,
    origin TEXT NOT NULL DEFAULT 'desktop',
    pushed INTEGER NOT NULL DEFAULT 0,
    downloaded INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
)
"""

# V6: a worker's job brings back its render's details (spans, ACX, script hash, checksum) and
# progress in chunks; a cancel asked for on the desktop waits here until the server has it.
V6_REMOTE_RESULTS = """
ALTER TABLE remote_jobs ADD COLUMN result TEXT;
ALTER TABLE remote_jobs ADD COLUMN chunks_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE remote_jobs ADD COLUMN chunks_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE remote_jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0
"""

# V7: settings named for what they hold (`pipelines.store.settings` declares each one): the
# narrator voice's engine settings were stored as "narrator_settings".
V7_SETTING_NAMES = """
UPDATE settings SET key = 'voice_settings' WHERE key = 'narrator_settings'
"""

# V8: a running job is leased to the process that renders it (several may share one project: the
# studio, the command line, a render worker): who holds it (host:pid:token, with the host and pid
# apart so a dead process on this machine is seen at once), its last heartbeat and when the
# lease runs out (seconds since the epoch). A job whose lease ran out may be claimed again.
V8_JOB_LEASES = """
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_host TEXT;
ALTER TABLE jobs ADD COLUMN lease_pid INTEGER;
ALTER TABLE jobs ADD COLUMN lease_heartbeat REAL;
ALTER TABLE jobs ADD COLUMN lease_expires REAL
"""

# V9: a chapter id is never handed out twice. A re-import keeps the id of every chapter it finds
# again (with its jobs and render), deletes the chapters it no longer finds and numbers new ones
# above every id the book has ever used (here, in a job, a sync push or a worker's job), so audio
# made for one chapter can never be read as another's. `ChapterEdits.new_chapter_id` reads the
# mark; the trigger keeps it up with any insert (its body's ";" stays mid-line: statements are
# split at ";" and a line end). A render also keeps what it was made from (`store.renders`), so
# a stale one can say why: renamed, text edited, lexicon, pauses, cast, voice or its settings.
V9_CHAPTER_IDS = """
CREATE TABLE id_high_water (
    name TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
);
INSERT INTO id_high_water (name, last_id) SELECT 'chapters', COALESCE(MAX(v), 0) FROM (
    SELECT MAX(id) AS v FROM chapters
    UNION ALL SELECT MAX(chapter_id) FROM jobs
    UNION ALL SELECT MAX(chapter_id) FROM renders
    UNION ALL SELECT MAX(chapter_id) FROM remote_jobs
    UNION ALL SELECT MAX(CAST(local_key AS INTEGER)) FROM sync_pushed WHERE kind = 'chapter'
);
CREATE TRIGGER chapters_high_water AFTER INSERT ON chapters BEGIN
    UPDATE id_high_water SET last_id = MAX(last_id, NEW.id) WHERE name = 'chapters'; END;
ALTER TABLE renders ADD COLUMN made_from TEXT NOT NULL DEFAULT '{}'
"""

# V10: the author edits a paragraph's text (`ChapterEdits.edit_block_text`); the manuscript's
# text is kept beside it (NULL while the block reads as imported), so a re-import that finds the
# paragraph unchanged in the manuscript keeps the author's text.
V10_BLOCK_EDITS = """
ALTER TABLE blocks ADD COLUMN original_text TEXT
"""

# V11: proof-listening (`pipelines.proof`): what a speech recogniser heard in each chapter's
# render, per utterance, kept by the render's script hash so a proof of older audio is known
# as stale (and found again when a take is set back to audio already proofed), with the audio's
# SHA-256 (a cached chunk replaced under the same key makes other audio); and every take of
# a sentence that was proofed, with its score, so retakes keep the best and number new ones on.
V11_PROOFS = """
CREATE TABLE proofs (
    chapter_id INTEGER NOT NULL REFERENCES chapters(id) ON DELETE CASCADE,
    script_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    audio_sha256 TEXT NOT NULL DEFAULT '',
    heard_share REAL NOT NULL,
    utterances TEXT NOT NULL DEFAULT '[]',
    proofed_at TEXT NOT NULL,
    PRIMARY KEY (chapter_id, script_hash)
);
CREATE TABLE proof_takes (
    chapter_id INTEGER NOT NULL REFERENCES chapters(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    take INTEGER NOT NULL,
    score REAL NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    heard TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (chapter_id, digest, take)
)
"""

MIGRATIONS: list[str] = [
    V1_BOOK,
    V2_RENDER,
    V3_SPEAKERS,
    V4_BILLING,
    V5_SYNC,
    V6_REMOTE_RESULTS,
    V7_SETTING_NAMES,
    V8_JOB_LEASES,
    V9_CHAPTER_IDS,
    V10_BLOCK_EDITS,
    V11_PROOFS,
]
