"""Stand-ins for the providers and platform services the engine talks to, one module each: HTTP
stand-ins for the providers of the provider actions (decision 0044), each checking the request
shape its provider documents and answering as it does, errors included (:mod:`.base` is the small
shared part: recording, scripted faults, one server); and the CRM on NATS (:mod:`.crm`, decision
0042)."""
