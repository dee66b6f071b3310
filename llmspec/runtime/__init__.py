"""The runtime: everything that loads an implementation and talks to it.

``target`` finds and loads a learner's file, package, module or notebook; ``adapter`` is the one
narrow door the spec tests use; ``inprocess`` answers through it in this process, ``worker`` in an
isolated subprocess, and ``wire`` is the only format that crosses between the two.  ``connect``
chooses between them.  Code in this package may run beside submission code (in the worker); the
grade itself is decided outside it.
"""
