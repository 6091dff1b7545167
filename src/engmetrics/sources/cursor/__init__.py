"""The AI code tracking source: Cursor's AI Code Tracking API and imports of its data (CSV or JSON).

`client.CursorClient` reads the API (JSON pages, CSV downloads, its rate limit); `records` reads one commit or change
row of either form; `sync` brings the store up to date incrementally; `imports` loads a file; `storage` holds every
SQL statement (idempotent writes, matching rows to stored commits, cursors).
"""
