"""llmspec's specification suite for chapter 2: point it at an implementation with ``--impl``.

One module per stage (``test_<stage>.py``, module-level ``pytestmark`` = the stage marker); every call
into the implementation goes through the session's ``impl`` adapter; expectations are computed on the
trusted side (``reference.tokenizers``, ``llmspec.data``, ``fixtures/``).  See ``CONTRACT.md``.
"""
