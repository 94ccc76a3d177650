-- Audiobook Studio: projects, chapters, render jobs and their events, the bucket for rendered
-- chapters, Row Level Security, and the functions render workers call.
-- Every row carries user_id; a signed-in user sees and changes only their own rows and files.
-- Ids are chosen by the desktop (uuid5 of the local ids), so a retried push is an upsert of the
-- same rows, never a second copy.

create table public.projects (
    id uuid primary key,
    user_id uuid not null default auth.uid(),
    title text not null,
    author text not null default '',
    language text not null default 'en',
    -- what a worker needs besides the blocks to build the same script: lexicon, pauses, profile
    settings jsonb not null default '{}'::jsonb,
    updated_at timestamptz not null default now()
);

create table public.chapters (
    id uuid primary key,
    project_id uuid not null references public.projects(id) on delete cascade,
    user_id uuid not null default auth.uid(),
    position integer not null,
    title text not null,
    kind text not null,
    -- the chapter's blocks as [{kind, level, text}], in order
    blocks jsonb not null default '[]'::jsonb,
    content_hash text not null default '',
    updated_at timestamptz not null default now()
);
create index chapters_by_project on public.chapters(project_id, position);

create table public.jobs (
    id uuid primary key default gen_random_uuid(),
    project_id uuid not null references public.projects(id) on delete cascade,
    chapter_id uuid not null references public.chapters(id) on delete cascade,
    user_id uuid not null default auth.uid(),
    -- 'local': rendered on the desktop, mirrored for the dashboard; 'workers': for render workers
    target text not null default 'workers' check (target in ('local', 'workers')),
    origin text not null default 'desktop',
    state text not null default 'queued'
        check (state in ('queued', 'running', 'paused', 'done', 'failed', 'cancelled')),
    priority integer not null default 0,
    engine text not null,
    voice text not null,
    settings jsonb not null default '{}'::jsonb,
    progress real not null default 0 check (progress >= 0 and progress <= 1),
    chunks_done integer not null default 0,
    chunks_total integer not null default 0,
    attempts integer not null default 0,
    error text,
    worker text,
    lease_expires_at timestamptz,
    audio_path text,
    duration_s real,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index jobs_claimable on public.jobs(user_id, target, state, priority desc, created_at);

create table public.job_events (
    id uuid primary key default gen_random_uuid(),
    job_id uuid not null references public.jobs(id) on delete cascade,
    user_id uuid not null default auth.uid(),
    kind text not null,
    detail jsonb not null default '{}'::jsonb,
    at timestamptz not null default now()
);
create index job_events_by_job on public.job_events(job_id, at);

alter table public.projects enable row level security;
alter table public.chapters enable row level security;
alter table public.jobs enable row level security;
alter table public.job_events enable row level security;

create policy projects_own on public.projects for all to authenticated
    using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);
create policy chapters_own on public.chapters for all to authenticated
    using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);
create policy jobs_own on public.jobs for all to authenticated
    using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);
create policy job_events_own on public.job_events for all to authenticated
    using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);

grant usage on schema public to authenticated;
grant select, insert, update, delete on public.projects, public.chapters, public.jobs,
    public.job_events to authenticated;

-- Rendered chapters: <user id>/<project id>/<chapter id>/<script hash>.wav
insert into storage.buckets (id, name, public) values ('chapters', 'chapters', false)
    on conflict (id) do nothing;

create policy chapters_audio_own on storage.objects for all to authenticated
    using (bucket_id = 'chapters' and (storage.foldername(name))[1] = (select auth.uid())::text)
    with check (bucket_id = 'chapters'
        and (storage.foldername(name))[1] = (select auth.uid())::text);

-- Give the next queued job (or one whose worker's lease ran out) to exactly one worker.
-- SKIP LOCKED lets racing workers pass over a row another is claiming instead of waiting for it;
-- security invoker keeps RLS in force, so a worker claims only its own user's jobs.
create function public.claim_job(p_worker text, p_lease_seconds integer default 60)
returns setof public.jobs
language sql security invoker set search_path = public as $$
    update public.jobs j
       set state = 'running', worker = p_worker, attempts = j.attempts + 1, error = null,
           lease_expires_at = now() + make_interval(secs => p_lease_seconds), updated_at = now()
     where j.id = (
        select c.id from public.jobs c
         where c.target = 'workers'
           and (c.state = 'queued' or (c.state = 'running' and c.lease_expires_at < now()))
         order by c.priority desc, c.created_at, c.id
         limit 1
         for update skip locked)
    returning j.*;
$$;

-- Progress and heartbeat in one: extends the lease while the worker still holds the job.
-- False means the job was taken from this worker (lease expired, cancelled): it must stop.
create function public.report_progress(
    p_job uuid, p_worker text, p_progress real, p_chunks_done integer, p_chunks_total integer,
    p_lease_seconds integer default 60)
returns boolean
language plpgsql security invoker set search_path = public as $$
begin
    update public.jobs
       set progress = least(greatest(p_progress, 0), 1), chunks_done = p_chunks_done,
           chunks_total = p_chunks_total, updated_at = now(),
           lease_expires_at = now() + make_interval(secs => p_lease_seconds)
     where id = p_job and worker = p_worker and state = 'running'
       and lease_expires_at >= now();
    return found;
end $$;

-- Finish a job, only for the worker that still holds it: a worker that lost its lease cannot
-- land the chapter a second time.
create function public.complete_job(
    p_job uuid, p_worker text, p_audio_path text, p_duration_s real, p_error text default null)
returns boolean
language plpgsql security invoker set search_path = public as $$
begin
    update public.jobs
       set state = case when p_error is null then 'done' else 'failed' end,
           progress = case when p_error is null then 1 else progress end,
           audio_path = p_audio_path, duration_s = p_duration_s, error = p_error,
           lease_expires_at = null, updated_at = now()
     where id = p_job and worker = p_worker and state = 'running';
    if found then
        insert into public.job_events (job_id, user_id, kind, detail)
        select id, user_id, case when p_error is null then 'done' else 'failed' end,
               jsonb_build_object('worker', p_worker, 'error', p_error)
          from public.jobs where id = p_job;
    end if;
    return found;
end $$;

grant execute on function public.claim_job(text, integer) to authenticated;
grant execute on function public.report_progress(uuid, text, real, integer, integer, integer)
    to authenticated;
grant execute on function public.complete_job(uuid, text, text, real, text) to authenticated;
revoke execute on function public.claim_job(text, integer) from anon, public;
revoke execute on function public.report_progress(uuid, text, real, integer, integer, integer)
    from anon, public;
revoke execute on function public.complete_job(uuid, text, text, real, text) from anon, public;
