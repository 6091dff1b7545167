"""The remote engine: the Engine interface over HTTP — our /v1 API, Upshot's API, or Koalr's.

- `engine`: `RemoteEngine`, each area's client implemented from its interface (`remote_area`), the providers table.
- `provider`: what every provider shares (address, key, its answers and refusals as our models and errors);
  `vendor`: what the vendor providers share (a table of the operations they offer, the rest `Unsupported`).
- One module per provider: `engmetrics` (our own /v1, every declared operation at its route), `upshot`, `koalr`
  (each lists which operation answers from which endpoint); their larger mappings beside them: `upshot_reports`
  (changelog, reports), `koalr_client` (Koalr's days windows, team ids, pages), `koalr_flow`, `koalr_forecast`,
  `koalr_risk`, `koalr_ai` (Copilot, custom metrics); `units`: exact conversions
  of a provider's figures into our units.
- `http`: the HTTP client (timeouts, retries with backoff, rate limits); `deadline`: one time budget per engine
  call; `cursors`: the opaque cursors handed to callers.

Every failure is an `EngmetricsError` naming the URL and what to do; the key never appears in a message or a log.
"""
