"""Isolation of one grading process on Linux: what the student's code can touch.

``enter(limits, hide)`` is called in the forked process that will run a
submission, before any student code.  It applies, in this order:

* resource limits (always): address space (memory), file size, no core dumps,
  a CPU-time ceiling;
* a new mount and network namespace (when the kernel allows it: as root, or
  through an unprivileged user namespace): every mount is made read-only, a
  fresh size-limited tmpfs is the only writable place (it is mounted on /tmp,
  /var/tmp and /dev/shm, and the process starts in /tmp/work), the folders and
  files in ``hide`` (the solutions, the git history, the submissions, the
  reports) are covered by empty ones, and the only network interface is a
  loopback that is down;
* when started as root: a switch to an unprivileged user id that keeps only
  the capability to read files, so that the process can neither undo the
  mounts, nor write outside its tmpfs, nor signal any other process;
* ``no_new_privs``, so that no setuid program gives the privileges back.

It returns the list of what holds, e.g. ``["limits", "read-only filesystem",
"no network", "unprivileged user"]``; the grader reports it in the summary.
"""
from __future__ import annotations

import ctypes
import os
import resource

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_KEEPCAPS = 38, 8
CAP_DAC_READ_SEARCH, _LINUX_CAPABILITY_VERSION_3 = 2, 0x20080522
NOBODY = 65534
_libc = ctypes.CDLL(None, use_errno=True)


def _call(name: str, *args) -> None:
    if getattr(_libc, name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    enc = (lambda s: None if s is None else s.encode())
    _call("mount", enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))


def set_limits(memory_bytes: int, cpu_seconds: int, file_bytes: int) -> None:
    """Memory (address space), CPU time, largest file written, no core files."""
    for which, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_FSIZE, file_bytes), (resource.RLIMIT_CORE, 0)):
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


def _mount_points() -> list[str]:
    """Mount points of this namespace, parents before children."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4].replace("\\040", " ") for line in f]
    return sorted(set(points), key=lambda p: p.count("/") if p != "/" else 0)


def _unshare() -> bool:
    """New mount + network namespaces; through a user namespace when not root.  False if refused."""
    uid, gid = os.getuid(), os.getgid()
    try:
        _call("unshare", CLONE_NEWNS | CLONE_NEWNET | (0 if uid == 0 else CLONE_NEWUSER))
    except OSError:
        return False
    if uid != 0:  # map ourselves to root inside the new user namespace, to be allowed to mount
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"0 {gid} 1")
    return True


def _lock_filesystem(hide: list[str], tmp_bytes: int) -> None:
    """Everything read-only but a fresh tmpfs on /tmp (and /var/tmp, /dev/shm); ``hide`` emptied."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    for point in _mount_points():
        try:
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        except OSError:
            pass  # e.g. a mount already locked read-only by the parent namespace
    empty = "mode=0555,size=4k"
    for path in hide:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, empty)
        elif os.path.isfile(path):
            _mount(os.devnull, path, None, MS_BIND)
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(folder):
            _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={tmp_bytes}")


def _nest_user_namespace() -> bool:
    """Not root: enter a nested user namespace, which holds no capability over our mounts."""
    try:
        _call("unshare", CLONE_NEWUSER)
        for name, text in (("setgroups", "deny"), ("uid_map", f"{NOBODY} 0 1"), ("gid_map", f"{NOBODY} 0 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    except OSError:
        return False
    return True


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_root(uid: int) -> None:
    """Become ``uid``, keeping only CAP_DAC_READ_SEARCH: read any file (Python may live under a
    private home), write nothing that the user could not, signal no other process."""
    _call("prctl", PR_SET_KEEPCAPS, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    data = (_CapData * 2)()
    data[0].effective = data[0].permitted = 1 << CAP_DAC_READ_SEARCH
    _call("capset", ctypes.byref(_CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)), data)


def enter(*, memory_bytes: int, cpu_seconds: int, tmp_bytes: int = 256 << 20, hide: list[str] = (),
          uid: int = NOBODY) -> list[str]:
    """Isolate this process (see the module docstring); returns what holds."""
    holds = []
    set_limits(memory_bytes, cpu_seconds, file_bytes=tmp_bytes)
    holds.append("limits")
    was_root = os.getuid() == 0
    if _unshare():
        try:
            _lock_filesystem(list(hide), tmp_bytes)
            holds += ["read-only filesystem", "private /tmp", "hidden solutions"]
        except OSError:
            pass
        holds.append("no network")
    workdir = "/tmp/work" if "private /tmp" in holds else None
    if workdir:
        os.makedirs(workdir, mode=0o777, exist_ok=True)
        os.chmod(workdir, 0o777)
    if was_root:
        _drop_root(uid)
        holds.append("unprivileged user")
    elif "read-only filesystem" in holds and _nest_user_namespace():
        holds.append("unprivileged user")
    try:
        _call("prctl", PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0),
              ctypes.c_ulong(0))
        holds.append("no new privileges")
    except OSError:
        pass
    return holds
