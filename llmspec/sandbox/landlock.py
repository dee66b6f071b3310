"""Landlock: a kernel-enforced sandbox any user may apply to their own process (Linux >= 5.13).

Why: without root there are no namespaces and no ``nobody`` to run as, and the in-process network
block (:mod:`llmspec.sandbox.netblock`) guards against accidents only.  Landlock rules are checked
by the kernel on every ``open``, ``mkdir``, ``rename``, ``connect`` and ``bind`` of the restricted
process and of every process it starts afterwards, and they can never be lifted.  The worker applies
:func:`restrict` after its set-up and before it loads the submission; descriptors opened before (its
socket to the grader, its log) keep working.  Rights a kernel does not know are left out (best effort
by ABI), so an older kernel still gets what it can enforce.  Syscalls through :mod:`ctypes` (no
dependency): the numbers 444-446 are the same on every Linux architecture.
"""
from __future__ import annotations

import ctypes
import os
from typing import Any

from llmspec.i18n import _
from llmspec.sandbox import isolation
from llmspec.sandbox.readrules import ReadRules

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1 << 0
RULE_PATH_BENEATH = 1

# include/uapi/linux/landlock.h: the filesystem rights, bit 0 upwards (REFER: ABI 2, TRUNCATE: ABI 3)
(FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR, FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR,
 FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK, FS_MAKE_SYM, FS_REFER,
 FS_TRUNCATE) = (1 << i for i in range(15))
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

# Every right that changes the filesystem (ABI 1); reads and execution are not handled, so stay open.
WRITE_RIGHTS_V1 = (FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_CHAR | FS_MAKE_DIR
                   | FS_MAKE_REG | FS_MAKE_SOCK | FS_MAKE_FIFO | FS_MAKE_BLOCK | FS_MAKE_SYM)
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE  # what a rule on a file may grant
READ_RIGHTS = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR  # handled only under the grading read rules


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # __attribute__((packed)) in the kernel header
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _syscall(number: int, *args: Any) -> int:
    fn = isolation.libc().syscall
    fn.restype = ctypes.c_long
    return int(fn(ctypes.c_long(number), *args))


def abi_version() -> int:
    """The Landlock ABI this kernel offers (0: none, or disabled at boot)."""
    try:
        version = _syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(0, version)


def _add_path_rule(ruleset: int, path: str, allowed: int) -> bool:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if not os.path.isdir(path):
            allowed &= FILE_RIGHTS
        attr = _PathBeneathAttr(allowed, fd)
        return _syscall(SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH),
                        ctypes.byref(attr), ctypes.c_uint32(0)) == 0
    finally:
        os.close(fd)


def restrict(writable: list[str], readable: ReadRules | None = None) -> dict[str, Any]:
    """Restrict this process and all its future children: writes only beneath ``writable`` (and
    ``/dev/null``), no TCP connect/bind, no signals or abstract sockets outside.  Irreversible.
    With ``readable`` (the grading rules), reads and execution too: files only beneath
    ``readable.files`` (and ``writable``), directory listings also of ``readable.listable``.

    Returns what was enforced, e.g. ``{"abi": 7, "fs": True, "tcp": True, "scoped": True}``, or
    ``{"abi": 0, "error": ...}`` when the kernel offers no Landlock (nothing changed then)."""
    abi = abi_version()
    if abi < 1:
        return {"abi": 0, "error": "this kernel offers no Landlock"}
    handled = WRITE_RIGHTS_V1 | (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0)
    handled |= READ_RIGHTS if readable is not None else 0
    attr = _RulesetAttr(handled, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    # the kernel checks the struct's size against what it knows: older ABIs get the shorter form
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = _syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return {"abi": abi, "error": f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}"}
    try:
        allowed = [p for p in writable if _add_path_rule(ruleset, p, handled)]
        _add_path_rule(ruleset, "/dev/null", handled)
        if readable is not None:
            for p in readable.files:
                _add_path_rule(ruleset, p, READ_RIGHTS)
            for p in readable.listable:
                _add_path_rule(ruleset, p, FS_READ_DIR)
        isolation.set_no_new_privs()  # required of an unprivileged caller (and wise for root)
        if _syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            return {"abi": abi, "error": f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}"}
    finally:
        os.close(ruleset)
    return {"abi": abi, "fs": True, "writable": allowed, "tcp": abi >= 4, "scoped": abi >= 6,
            "reads": readable is not None}


def coverage(root: bool, abi: int | None = None) -> str | None:
    """One line saying what is NOT enforced for a worker, or None when writes and TCP are confined
    (by Landlock, or as root by ``nobody``, private mounts and a network namespace)."""
    abi = abi_version() if abi is None else abi
    if root and abi < 1:
        return _("sandbox: this kernel offers no Landlock: as root, reads of the grader's files and the network "
                 "are confined only where the kernel lets the worker make its own namespaces").format()
    if root or abi >= 4:
        return None
    if abi >= 1:
        return _("sandbox: this kernel's Landlock (ABI {abi}) confines writes to the scratch directory but "
                 "cannot block TCP (needs ABI 4, Linux 6.7); run as root for a network namespace").format(abi=abi)
    return _("sandbox: NOT enforced: without root and without Landlock (Linux >= 5.13) submission code can "
             "read and write wherever you can (the other submissions and the reports too) and use the network; "
             "run the grader as root or in a container").format()
