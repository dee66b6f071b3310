"""``python -m llmspec`` is the ``llmspec`` command."""
import sys

from llmspec.cli import main

sys.exit(main())
