"""The builder's action tools (frame 4) and provider message lookups: :mod:`.service` holds the
logic, :mod:`.handlers` the ``ActionService`` servicer."""
