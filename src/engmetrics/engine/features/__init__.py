"""Feature areas of the Engine interface: each module holds an ``…Api`` mixin (declarations) and a
``Local…`` mixin (the local engine's implementation), so each area evolves in its own file."""
