"""The areas engmetrics answers about, one package each, composed into an engine over one `Context`.

Each area holds its request/result models, its queries (the only place its SQL lives), its pure
computations (``metrics``), its interface (``api``: the operations it declares) and a local service
implementing that interface. Areas depend on each other only through those interfaces.
"""
