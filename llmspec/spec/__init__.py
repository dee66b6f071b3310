"""The parts of the suite's pytest plugin (:mod:`llmspec.plugin` holds its hooks and fixtures).

``settings`` resolves what a run judges and how (command line, environment, ``pyproject.toml``);
``profiles`` configures Hypothesis; ``run`` opens the adapter of one session; ``report`` folds
pytest's reports into one verdict per test and per stage, and writes the table and the JSON report.
"""
