"""llmspec: the trusted harness (data location, target loading, the adapter, the pytest plugin, the
CLI, grading and reports).  ``check`` and ``%llmspec`` judge the definitions a kernel (or script)
holds, in its own process; a *grade* is never decided in a process where submission code ran."""
__version__ = "0.1.0"


def check(*stages: str, **options: object) -> object:
    """Judge the live namespace of this kernel (or script): see :func:`llmspec.kernel.check`."""
    from llmspec.kernel import check as _check

    return _check(*stages, **options)  # type: ignore[arg-type]


def load_ipython_extension(shell: object) -> None:
    """``%load_ext llmspec`` registers the ``%llmspec`` magic (:mod:`llmspec.kernel`)."""
    from llmspec.kernel import load_ipython_extension as _load

    _load(shell)
