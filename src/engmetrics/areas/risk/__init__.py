"""Change risk: how risky a change is, learned from the repository's own history (SZZ labels).

- ``api`` (the operations), ``service`` (their local implementation), ``models`` (requests and results),
  ``queries`` (every SQL statement of the area), ``sync`` (the sync step: label coverage).
- ``metrics/`` — pure: ``changes`` (what a change is), ``fixes`` (fix commits, label coverage), ``features``
  (no-look-ahead features), ``codeowners`` (rules), ``model`` (logistic model), ``evaluation`` (rolling
  evaluation), ``fit`` (training rows and fit), ``explain`` (points per signal), ``wording`` (sentences).
- Driving git: ``targets`` (what to score), ``scoring`` (score a target), ``szz`` (trace fixes to the commits
  that induced them), ``labelling`` (label the stored fixes incrementally), ``source_lines`` (count source
  lines added), ``codeowners_history`` (CODEOWNERS versions), ``feature_replay`` (the stored changes' features),
  ``training`` (the cached model), ``git_output`` (reading git's output and errors).
"""
