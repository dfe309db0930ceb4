"""HTTP stand-ins for the providers of the provider actions (decision 0044): one per provider,
each checking the request shape its provider documents and answering as it does, errors
included. :mod:`.base` is the small shared part (recording, scripted faults, one server)."""
