"""Pure automation logic, no SQL and no I/O: TestAutomation's dry run (:mod:`.dryrun`)."""
