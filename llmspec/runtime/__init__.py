"""The runtime: everything that loads an implementation and talks to it.

A target is found (``resolve``), loaded by the loader of its kind (``loaders``, ``notebook``) under
the conditions learners' code expects (``conditions``), and its names looked up (``names``):
``target`` holds the result.  ``adapter`` is the one narrow door the spec tests use; ``inprocess``
answers through it in this process (results made wire values by ``normalise``); ``proxy`` answers
from a worker process, each call one message (``process`` starts and watches it, ``wire`` is the
only format that crosses, ``faults`` keeps a fault within its stage), and
``worker`` is the loop on the far side, where submission code runs.  ``connect`` chooses between
them.  The grade itself is decided outside the worker.
"""
