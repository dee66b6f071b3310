"""llmspec: the trusted harness (data location, target loading, the adapter, the pytest plugin, the
CLI, grading and reports).  It never decides a verdict in a process where submission code ran."""
__version__ = "0.1.0"
