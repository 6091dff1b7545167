"""The DORA area's pure computations: release tags, the commit graph and what each deployment shipped,
failure and rework marks, and the figures of a window. No SQL, no I/O."""
