-- Audiobook Studio 0003: a row may only point at parents its own user owns.
--
-- Foreign keys are checked without Row Level Security, so under 0001's policies a user could
-- write a chapter, job or job event whose parent id is another user's: the insert succeeding or
-- failing told them that the id exists, and deleting the parent cascaded across users into
-- their rows. Each child table's WITH CHECK now also requires the parent (project, chapter, job)
-- to belong to the same user, so a foreign id and an id that does not exist are refused alike,
-- by the policy, before any foreign key is looked at; a job's chapter must also be in the job's
-- project. Reading and deleting are unchanged: a user sees and deletes only their own rows.
--
-- The outer row's columns are named with their table (chapters.project_id): inside a subquery
-- an unqualified name binds first to a column of the same name in the subquery's own table.

drop policy if exists chapters_own on public.chapters;
create policy chapters_own on public.chapters for all to authenticated
    using ((select auth.uid()) = user_id)
    with check (
        (select auth.uid()) = user_id
        and exists (
            select 1 from public.projects p
             where p.id = chapters.project_id and p.user_id = (select auth.uid())));

drop policy if exists jobs_own on public.jobs;
create policy jobs_own on public.jobs for all to authenticated
    using ((select auth.uid()) = user_id)
    with check (
        (select auth.uid()) = user_id
        and exists (
            select 1 from public.projects p
             where p.id = jobs.project_id and p.user_id = (select auth.uid()))
        and exists (
            select 1 from public.chapters c
             where c.id = jobs.chapter_id and c.project_id = jobs.project_id
               and c.user_id = (select auth.uid())));

drop policy if exists job_events_own on public.job_events;
create policy job_events_own on public.job_events for all to authenticated
    using ((select auth.uid()) = user_id)
    with check (
        (select auth.uid()) = user_id
        and exists (
            select 1 from public.jobs j
             where j.id = job_events.job_id and j.user_id = (select auth.uid())));
