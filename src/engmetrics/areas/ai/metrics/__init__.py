"""The AI-impact area's pure computations: shares of AI code (`shares`), stability by AI share with its intervals
(`stability`), Copilot figures (`copilot`). No SQL, no I/O."""
