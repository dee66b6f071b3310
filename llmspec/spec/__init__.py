"""The parts of the suite's pytest plugin (:mod:`llmspec.plugin` holds its hooks and fixtures):
``run`` (a session's settings and state), ``profiles`` (Hypothesis), ``report`` (the verdicts, the table,
the JSON report)."""
