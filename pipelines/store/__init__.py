"""The project database: the only place with SQL. A project is a folder holding `project.sqlite`
(WAL, versioned migrations), the manuscript's copy, the cover, the chunk cache and the renders."""

from pipelines.store.project import Project, slugify

__all__ = ["Project", "slugify"]
