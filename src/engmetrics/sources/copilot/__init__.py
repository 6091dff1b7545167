"""The GitHub Copilot usage metrics source: the reports API (download links to daily and 28-day reports).

`reports` reads a downloaded report into day totals; `sync` fetches the links through the GitHub client, downloads
the files and writes the days (and the seats) with `storage`, which holds every SQL statement.
"""
