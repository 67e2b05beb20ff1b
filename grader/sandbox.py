"""Isolation of one grading process on Linux: what the student's code can touch.

``enter(limits, hide)`` is called in the forked process that will run a
submission, before any student code.  It applies, in this order:

* resource limits (always): address space (memory), file size, no core dumps,
  a CPU-time ceiling, no further process or thread;
* a new mount and network namespace (when the kernel allows it: as root, or
  through an unprivileged user namespace): every mount is made read-only, a
  fresh size-limited tmpfs is the only writable place (it is mounted on /tmp,
  /var/tmp and /dev/shm, and the process starts in /tmp/work), the folders and
  files in ``hide`` (the solutions, the git history, the submissions, the
  reports) are covered by empty ones, and the only network interface is a
  loopback that is down;
* when started as root: a switch to an unprivileged user id of its own (one per
  grading process), so that the process can neither undo the mounts, nor read
  private files (Python and the course, if they lie in a private folder such as
  /root, are bound into an otherwise empty copy of it), nor signal any other
  process; when not root, a nested user namespace, which holds no
  capability over the mounts (signals to the user's own processes remain
  possible; the audit hook reports them);
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
PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG, MNT_DETACH = 38, 1, 2
NOBODY = 65534
_libc = ctypes.CDLL(None, use_errno=True)


def _call(name: str, *args) -> None:
    """Call a libc function; OSError if it fails or this system has no such function."""
    if not hasattr(_libc, name):
        raise OSError(0, f"{name}: not available on this system")
    if getattr(_libc, name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    enc = (lambda s: None if s is None else s.encode())
    _call("mount", enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))


def set_limits(memory_bytes: int, cpu_seconds: int, file_bytes: int) -> None:
    """Memory (address space), CPU time, largest file written, no core files, and no new process or
    thread (RLIMIT_NPROC counts the user's processes: with a user id of its own, the process is alone)."""
    for which, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_FSIZE, file_bytes), (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_NPROC, 1)):
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass  # a limit this system does not support (macOS: RLIMIT_AS)


def _mounts() -> dict[str, bool]:
    """Mount point -> writable, for the mounts that are visible (the last one mounted at each point)."""
    with open("/proc/self/mountinfo") as f:
        fields = [line.split() for line in f]
    return {f[4].replace("\\040", " "): "rw" in f[5].split(",") for f in fields}


def _mount_points() -> list[str]:
    """Mount points of this namespace, parents before children."""
    return sorted(_mounts(), key=lambda p: p.count("/") if p != "/" else 0)


def writable_mounts() -> list[str]:
    """The visible mounts that are still writable, other than the private tmpfs."""
    return sorted(p for p, rw in _mounts().items() if rw and p not in ("/tmp", "/var/tmp", "/dev/shm"))


def _unshare() -> bool:
    """New mount + network namespaces; through a user namespace when not root.  False if refused."""
    uid, gid = os.getuid(), os.getgid()
    try:
        _call("unshare", CLONE_NEWNS | CLONE_NEWNET | (0 if uid == 0 else CLONE_NEWUSER))
        if uid != 0:  # map ourselves to root inside the new user namespace, to be allowed to mount
            for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
                with open(f"/proc/self/{name}", "w") as f:
                    f.write(text)
    except OSError:
        return False
    return True


PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")


def _private_ancestor(path: str) -> str | None:
    """The first folder on the way to ``path`` that other users cannot enter (e.g. /root), or None."""
    current = "/"
    for part in [p for p in os.path.abspath(path).split("/") if p]:
        current = os.path.join(current, part)
        if os.path.isdir(current) and not os.stat(current).st_mode & 0o001:
            return current
    return None


def _expose(paths: list[str], covers: list[str] = ()) -> None:
    """Make ``paths`` (Python, the course) reachable by an unprivileged user although a folder above
    them is private, without exposing the rest of that folder: the private folder (and each folder of
    ``covers``, e.g. the home of a user who is not root) is covered by an empty tmpfs into which only
    ``paths`` are bound back (staged through the private /tmp)."""
    groups: dict[str, list[str]] = {os.path.realpath(c): [] for c in covers if os.path.isdir(c)}
    for path in sorted(set(os.path.realpath(p) for p in paths if os.path.exists(p))):
        around = [c for c in groups if path.startswith(c + "/")]
        ancestor = min(around, key=len) if around else _private_ancestor(path)
        if ancestor and not any(path.startswith(q + "/") for q in groups.get(ancestor, [])):
            groups.setdefault(ancestor, []).append(path)
    for k, (ancestor, inside) in enumerate(sorted(groups.items())):
        stages = []
        for j, path in enumerate(inside):
            stage = f"/tmp/.stage-{k}-{j}"
            os.makedirs(stage)
            _mount(path, stage, None, MS_BIND | MS_REC)
            stages.append(stage)
        _mount("tmpfs", ancestor, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
        for path, stage in zip(inside, stages):
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(stage, path, None, MS_BIND | MS_REC)
            _call("umount2", stage.encode(), ctypes.c_int(MNT_DETACH))
            os.rmdir(stage)


def _in_tmp(path: str) -> bool:
    path = os.path.realpath(path)
    return any(path == t or path.startswith(t + "/") for t in PRIVATE_TMP)


def _kept_from_tmp(paths: list[str]) -> list[tuple[str, int]]:
    """(path, open descriptor) for each outermost path of ``paths`` under /tmp, /var/tmp or /dev/shm."""
    chosen: list[str] = []
    for path in sorted({os.path.realpath(p) for p in paths if os.path.isdir(p) and _in_tmp(p)}, key=len):
        if not any(path.startswith(c + "/") for c in chosen):
            chosen.append(path)
    return [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in chosen]


def _lock_filesystem(hide: list[str], expose: list[str], tmp_bytes: int, covers: list[str]) -> None:
    """Everything read-only but a fresh tmpfs on /tmp (and /var/tmp, /dev/shm); ``hide`` emptied;
    ``covers`` emptied but for ``expose``, which stays reachable through private folders."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    inside_tmp = _kept_from_tmp(expose)  # e.g. the course itself, cloned under /tmp
    for folder in PRIVATE_TMP:
        if os.path.isdir(folder):
            _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={tmp_bytes}")
    for path, fd in inside_tmp:  # bound back into the fresh tmpfs, through a descriptor opened before
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)
    _expose([p for p in expose if not _in_tmp(p)], covers)
    empty = "mode=0555,size=4k"
    for path in hide:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, empty)
        elif os.path.isfile(path):
            _mount(os.devnull, path, None, MS_BIND)
    for point in _mount_points():
        if point not in PRIVATE_TMP:
            try:
                _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
            except OSError:
                pass  # e.g. a mount already locked read-only by the parent namespace


def _nest_user_namespace() -> bool:
    """Not root: enter a nested user namespace, which holds no capability over our mounts.
    (Its id map cannot be written once /proc is read-only; unmapped, the process shows as
    ``nobody`` and keeps the file access of the user who runs the grader.)"""
    try:
        _call("unshare", CLONE_NEWUSER)
    except OSError:
        return False
    return True


def _drop_root(uid: int) -> None:
    """Become ``uid``, with no capability left."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def enter(*, memory_bytes: int, cpu_seconds: int, tmp_bytes: int = 256 << 20, hide: list[str] = (),
          expose: list[str] = (), uid: int = NOBODY) -> list[str]:
    """Isolate this process (see the module docstring); returns what holds.

    hide: folders and files to cover with empty ones; expose: folders the process must reach
    (Python's prefixes, the course) even if they lie in a private folder such as /root."""
    holds = []
    set_limits(memory_bytes, cpu_seconds, file_bytes=tmp_bytes)
    holds.append("limits")
    was_root = os.getuid() == 0
    home = [] if was_root else [os.path.expanduser("~")]  # not root: the files stay the user's, so hide home
    if _unshare():
        try:
            _lock_filesystem(list(hide), list(expose), tmp_bytes, home)
            left = writable_mounts()
            holds += ["read-only filesystem" + (f" except {', '.join(left)}" if left else ""), "private /tmp",
                      "hidden solutions"]
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
        _call("prctl", PR_SET_PDEATHSIG, ctypes.c_ulong(9), ctypes.c_ulong(0), ctypes.c_ulong(0),
              ctypes.c_ulong(0))  # killed if the grader dies (set after the user switch, which clears it)
    except OSError:
        pass
    return holds
