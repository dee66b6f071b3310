"""The sandbox: what confines submission code in the worker, enforced by the kernel where it can be.

``isolation`` (limits, namespaces, a private ``/tmp``, ``nobody``) and ``landlock`` confine the worker;
``readrules`` says what it may read and names who tried otherwise; ``proctree`` and
``forkserver`` keep its processes in hand.  ``netblock`` is a courtesy to honest code, not a boundary.
"""
