"""The ``beez`` command line: run the stack locally and talk to it."""
