"""A deterministic, offline demo workspace: two git repositories, deployment events and incidents.

``engmetrics.demo.workspace.build_demo(root)`` writes:

- ``root/repos/webapp``: about two years and ~1,500 commits of a TypeScript web shop. Six people (one
  of them with a work and a personal e-mail) plus dependabot; feature branches merged with merge
  commits, squash merges ("… (#456)"), conventional, plain and gitmoji subjects; annotated release tags
  ``vMAJOR.MINOR.PATCH`` every one to two weeks (weekly or faster in the last quarter), pre-release tags
  (``v2.0.0-rc.1``, ``v2.3.0-rc.1``) that are not releases, reverted commits (git's standard
  ``Revert "…"`` message) shipped in the next release, and a hotfix release ``v2.4.1`` made only of
  ``fix:`` commits within 72 hours of ``v2.4.0``. Deployments of this repository come from its tags.
- ``root/repos/payments-api``: about a year and ~600 commits of a Python service by three people (one
  shared with webapp). Its deployments are the explicit events in ``deployments.json``.
- ``root/deployments.json``: a JSON list of deployment events (``id``, ``repo``, ``sha``,
  ``environment``, ``status``, ``deployed_at``, ``service``), several per week, each after its commit.
- ``root/incidents.json``: a JSON list of incidents (``id``, ``title``, ``severity``, ``started_at``,
  ``resolved_at`` or null while open, ``repo``, ``deployment_id`` or null, ``sha`` or null).
- ``root/README.txt``: what the workspace holds.

Every timestamp falls before 00:00 UTC on ``as_of`` (default: today, UTC), so windows such as
"last_30_days" always hold data and nothing lies in the future. The same ``as_of`` and ``seed`` give
byte-identical repositories (same commit shas) and JSON files: all names, dates, messages and file
contents come from ``random.Random`` seeded with ``seed`` (one per repository, one for the events), and
git runs with no user or system configuration. History is written with one ``git fast-import`` process
per repository; nothing is downloaded and nothing is printed. The demo stands alone: it imports nothing
from the engine, the areas, the store or the faces.

Modules, bottom up:

- `clock`: time units (seconds), day numbers, ISO-8601 text.
- `people`: the organisation, its people and their git identities.
- `contents`: plausible file contents (TypeScript/Python source, Markdown, SQL) and a commit's edits to them.
- `png`: random PNG images, byte-stable.
- `messages`: commit kinds and subject lines in each person's style.
- `git_writer`: git without user configuration, and the ``git fast-import`` stream.
- `profiles`: what each of the two repositories is like.
- `tree`: the files on main and the changes one commit makes.
- `timeline`: who works when, and the times of ordinary changes.
- `history`: commits on main, squash merges and merged pull requests, through fast-import.
- `releases`: the webapp's release plan (versions, pre-releases, the hotfix).
- `webapp`, `payments`: each repository's history simulation.
- `deployments`, `incidents`: the two event files.
- `workspace`: ``build_demo``, the entry point.
"""
