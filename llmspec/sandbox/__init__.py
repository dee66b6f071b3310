"""The sandbox: what confines submission code in the worker, enforced by the kernel where it can be.

``isolation`` applies resource limits, namespaces, a private ``/tmp`` and an unprivileged user;
``netblock`` makes the network fail fast inside the target's process (a courtesy for learners whose
code downloads at import; the kernel-level network rules are ``isolation``'s).
"""
