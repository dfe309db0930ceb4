"""Pure trigger logic, no SQL and no I/O: the automation index and matching (:mod:`.index`), waits
and which event fires them (:mod:`.waits`), event validation (:mod:`.validation`) and the jobs
sent to the executor (:mod:`.jobs`)."""
