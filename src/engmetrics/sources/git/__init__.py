"""The git source: a repository's history, tags and the pull requests git reveals, read with the `git` CLI.

`sync` is the entry point (`sync_git`); `run` runs git, `repository` checks a path and reads the
repository's properties, `refs` its branches and tags, `log_stream` streams ``git log`` into `log_parser`,
`commit_writer` batches the parsed commits, `messages` reads commit messages, `pr_merges` and
`pr_rebuild` find merged pull requests in the stored history; `storage` holds every SQL statement.
"""
