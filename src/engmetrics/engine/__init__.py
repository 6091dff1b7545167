"""Engines: every area's interface composed (`Engine`), answered from the local store or a remote API."""
