-- Audiobook Studio 0002: the script a worker speaks, what its render brings back, and
-- cancelling a worker's job.
--
-- `script` is the chapter's utterances as the desktop planned them (text as spoken, role,
-- speaker, voice, pause): a worker speaks exactly that, so dual-voice and full-cast chapters come
-- back cast as on the desktop. A job without one (made by a dashboard) is planned by the worker.
-- `result` holds what the desktop needs to use a remote render as its own: where each utterance
-- sits (captions, retail sample), the ACX measurements, the script hash (is the chapter still
-- current after edits?) and the audio's SHA-256 (checked after the download).

alter table public.jobs add column if not exists script jsonb;
alter table public.jobs add column if not exists result jsonb;

drop function if exists public.complete_job(uuid, text, text, real, text);

-- Finish a job, only for the worker that still holds it: a worker that lost its lease, or whose
-- job was cancelled, cannot land the chapter.
create function public.complete_job(
    p_job uuid, p_worker text, p_audio_path text, p_duration_s real, p_error text default null,
    p_result jsonb default null)
returns boolean
language plpgsql security invoker set search_path = public as $$
begin
    update public.jobs
       set state = case when p_error is null then 'done' else 'failed' end,
           progress = case when p_error is null then 1 else progress end,
           audio_path = p_audio_path, duration_s = p_duration_s, error = p_error,
           result = p_result, lease_expires_at = null, updated_at = now()
     where id = p_job and worker = p_worker and state = 'running';
    if found then
        insert into public.job_events (job_id, user_id, kind, detail)
        select id, user_id, case when p_error is null then 'done' else 'failed' end,
               jsonb_build_object('worker', p_worker, 'error', p_error)
          from public.jobs where id = p_job;
    end if;
    return found;
end $$;

-- Cancel a queued or running job. A running worker learns it at its next progress report
-- (report_progress returns false) and stops. Returns the job's state afterwards: 'cancelled',
-- or what it already was ('done' when the cancel came too late); null for a job not visible.
create function public.cancel_job(p_job uuid)
returns text
language plpgsql security invoker set search_path = public as $$
declare
    v_state text;
begin
    update public.jobs
       set state = 'cancelled', lease_expires_at = null, updated_at = now()
     where id = p_job and state in ('queued', 'running', 'paused');
    if found then
        insert into public.job_events (job_id, user_id, kind, detail)
        select id, user_id, 'cancelled', jsonb_build_object('worker', worker)
          from public.jobs where id = p_job;
    end if;
    select state into v_state from public.jobs where id = p_job;
    return v_state;
end $$;

grant execute on function public.complete_job(uuid, text, text, real, text, jsonb)
    to authenticated;
grant execute on function public.cancel_job(uuid) to authenticated;
revoke execute on function public.complete_job(uuid, text, text, real, text, jsonb)
    from anon, public;
revoke execute on function public.cancel_job(uuid) from anon, public;
