"""The GitHub source: pull requests (with reviews and commits), deployments, releases and incident issues.

`sync.sync_github_repo` syncs one repository through a `client.GitHubClient`; `pulls`, `deployments`,
`releases` and `incidents` are its parts; `pr_query`, `pr_rows`, `pr_pages` and `pr_writer` fetch, convert
and write pull requests; `config` says where and as whom to reach GitHub; `storage` holds every SQL statement.
"""
