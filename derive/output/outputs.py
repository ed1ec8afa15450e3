"""Output folders and files that never cost a user a file.

An output folder of grpo-derive (``results/`` by default) holds a marker file,
:data:`MARKER` (``.grpo-derive``), whose text is fixed, so ``results/`` stays
byte-identical.  :func:`prepare_folder` accepts a folder that does not exist,
an empty folder, or a folder with the marker (an earlier output); it refuses
(:class:`Refused`) any other folder and any existing file, so ``--out`` can
never delete what a user keeps there.

:func:`write_folder` writes the new version into a hidden sibling
``.NAME.tmp-XXXXXXXX`` (the marker last, so a temporary folder with the marker
is complete), then swaps it in with one ``renameat2(RENAME_EXCHANGE)`` system
call where Linux offers it, else with two renames; the previous version moves
to ``.NAME.old-XXXXXXXX`` and is deleted.  With the exchange, ``NAME`` is at
every moment exactly the old or exactly the new version; with two renames
there is one moment without ``NAME``, and an interrupt there puts the old
version back (a SIGKILL there: the next run does).  SIGINT and SIGTERM are held
back while the swap runs.  The next run removes hidden siblings left by a
killed run (:func:`recover`), except those a live run holds a lock on.
Nothing else outside the output folder is ever renamed or removed.

:func:`write_file` writes a single file (the cache of ``compute``) the same
way: a hidden temporary sibling, then an atomic ``os.replace``.

Fault injection, for the tests of these promises: the environment variable
:data:`FAULT_ENV` (``GRPO_DERIVE_FAULT``) holds ``stage:action`` items,
separated by commas.  At a named stage the action is taken: ``interrupt``
raises :class:`KeyboardInterrupt`; ``sigint``, ``sigterm``, ``sigkill`` send
that signal to the process; ``enospc`` raises ``OSError(ENOSPC)``;
``exchange:unsupported`` makes the swap use two renames.  The stages are
``write`` (the first file is in the temporary folder), ``written`` (all of
it), ``moved-aside`` (two renames: the old version moved aside, the new not
yet in place), ``swapped`` (the new version in place, the old not yet
deleted), ``removing-old`` (the old version's marker removed) and ``file``
(a single file written, not yet in place).
"""

import contextlib
import errno
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no locks, stale siblings are always removed
    fcntl = None

#: The marker file of an output folder, and its fixed text.  Only the first
#: line identifies an output; the rest is for a reader who finds the file.
MARKER = ".grpo-derive"
MARKER_TEXT = ("grpo-derive output folder\n"
               "Written by grpo-derive (`make`, `grpo-derive build` or `grpo-derive render`).\n"
               "The next run into this folder replaces all of it: keep no other files here.\n")
_MARKER_ID = MARKER_TEXT.splitlines()[0]

FAULT_ENV = "GRPO_DERIVE_FAULT"

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_RENAMEAT2 = []  # the libc function, looked up once (None if there is none)


class Refused(Exception):
    """The destination must not be replaced (a user's folder or file), or cannot be used."""


class WriteFailed(Exception):
    """Writing the output failed (full disk, read-only folder...); the old version is intact."""

    def __init__(self, path, reason):
        super().__init__(f"cannot write {path}: {reason}")
        self.path, self.reason = path, reason


def fault(stage, path=None):
    """Take the action that :data:`FAULT_ENV` names for *stage*, if any; return it."""
    spec = os.environ.get(FAULT_ENV, "")
    for item in filter(None, spec.split(",")):
        where, _, action = item.partition(":")
        if where != stage:
            continue
        if action == "interrupt":
            raise KeyboardInterrupt
        if action in ("sigint", "sigterm", "sigkill"):
            os.kill(os.getpid(), getattr(signal, action.upper()))
        elif action == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path or stage))
        return action
    return None


def is_output(path):
    """Whether the folder *path* is an earlier output: it holds the marker file."""
    marker = Path(path) / MARKER
    if marker.is_symlink() or not marker.is_file():
        return False
    try:
        with open(marker, encoding="utf-8", errors="replace") as fh:
            return fh.readline(len(_MARKER_ID) + 2).rstrip("\n") == _MARKER_ID
    except OSError:
        return False


def _resolved(path):
    """*path* made absolute, symbolic links followed; refuses a root."""
    resolved = Path(os.path.realpath(os.fspath(path)))
    if resolved.parent == resolved or not resolved.name:
        raise Refused("a file system root cannot be an output")
    return resolved


def _make_parent(path):
    """Create the folders above *path*; :class:`WriteFailed` if that fails."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where a folder must be
        raise WriteFailed(path, os.strerror(errno.ENOTDIR)) from None
    except OSError as exc:
        raise WriteFailed(path, exc.strerror or str(exc)) from None


def _probe(path, make):
    """:class:`WriteFailed` now, before any long work, if no sibling of *path*
    can be created (a read-only folder, say)."""
    try:
        if make is tempfile.mkdtemp:
            os.rmdir(make(prefix=f".{path.name}.tmp-", dir=path.parent))
        else:
            fd, name = make(prefix=f".{path.name}.tmp-", dir=path.parent)
            os.close(fd)
            os.unlink(name)
    except OSError as exc:
        raise WriteFailed(path, exc.strerror or str(exc)) from None


def prepare_folder(out):
    """The absolute output folder *out*, after :func:`recover`, if it may be replaced.

    Accepted: a path that does not exist (its parent folders are created), an
    empty folder, and a folder that :func:`is_output`.  Refused with
    :class:`Refused`: an existing file, and a folder with anything else in it.
    :class:`WriteFailed` if the folder beside which it is written is not writable.
    """
    path = _resolved(out)
    _make_parent(path)
    recover(path)
    if os.path.lexists(path):
        if not path.is_dir():
            raise Refused("exists and is not a folder; give a new or empty folder "
                          "(nothing was written)")
        try:
            empty = not os.listdir(path)
        except OSError as exc:
            raise Refused(f"cannot read the folder: {exc.strerror}") from None
        if not empty and not is_output(path):
            raise Refused(f"the folder holds files that grpo-derive did not write (no {MARKER} "
                          "marker); give a new or empty folder (nothing was written)")
    _probe(path, tempfile.mkdtemp)
    return path


def prepare_file(dest, is_ours):
    """The absolute path *dest* of a single output file, if it may be replaced.

    Accepted: a path that does not exist, and an existing regular file for
    which ``is_ours(path)`` is true.  Refused: anything else.  :class:`WriteFailed`
    if its folder is not writable.
    """
    path = _resolved(dest)
    _make_parent(path)
    recover(path)
    if os.path.lexists(path):
        if not path.is_file():
            raise Refused("exists and is not a regular file (nothing was written)")
        if not is_ours(path):
            raise Refused("the file exists and was not written by grpo-derive; give a new "
                          "path (nothing was written)")
    _probe(path, tempfile.mkstemp)
    return path


# -- locks and stale siblings -------------------------------------------------


def _lock(path):
    """An open descriptor of *path* holding an exclusive lock, or None if another
    process holds one (or *path* cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
    return fd


def _unlock(fd):
    if fd is not None:
        os.close(fd)


def _siblings(path):
    """Hidden siblings ``.NAME.tmp-*`` and ``.NAME.old-*`` of *path*, sorted."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(tmp|old)-[A-Za-z0-9_]+\Z")
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    return [path.parent / n for n in sorted(names) if pattern.match(n)]


def _discard(path):
    """Remove a temporary or previous version: its marker first, so a
    half-removed folder is never taken for a complete one."""
    if not os.path.lexists(path):
        return
    if path.is_dir() and not path.is_symlink():
        with contextlib.suppress(OSError):
            os.unlink(path / MARKER)
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


def recover(path):
    """Undo what a killed run left beside *path*.

    If *path* is missing and a previous version ``.NAME.old-*`` is complete (it
    has the marker), it is put back: the run was killed between the two renames
    of a swap.  Every other hidden sibling is removed, except those a live run
    holds a lock on.
    """
    path = Path(path)
    locks = {}
    try:
        for p in _siblings(path):
            fd = _lock(p)
            if fd is not None:
                locks[p] = fd
        if not os.path.lexists(path):
            for p in locks:
                if ".old-" in p.name and p.is_dir() and not p.is_symlink() and is_output(p):
                    os.rename(p, path)
                    break
        for p in locks:
            _discard(p)
    finally:
        for fd in locks.values():
            _unlock(fd)


# -- the swap -------------------------------------------------------------------


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM back (they are delivered afterwards)."""
    if (not hasattr(signal, "pthread_sigmask")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _renameat2():
    if not _RENAMEAT2:
        fn = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                fn = ctypes.CDLL(None, use_errno=True).renameat2
                fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                               ctypes.c_uint]
                fn.restype = ctypes.c_int
            except (OSError, AttributeError):
                fn = None
        _RENAMEAT2.append(fn)
    return _RENAMEAT2[0]


def exchange(a, b):
    """Swap the paths *a* and *b* in one system call; False if the system cannot."""
    if fault("exchange") == "unsupported":
        return False
    fn = _renameat2()
    if fn is None:
        return False
    import ctypes

    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), os.fspath(b))


def _aside_name(path):
    """A fresh name ``.NAME.old-XXXXXXXX`` beside *path* (created, then freed)."""
    name = tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent)
    os.rmdir(name)
    return Path(name)


def _swap(tmp, out):
    """Put the complete folder *tmp* in the place of *out*, deleting the old *out*."""
    if not os.path.lexists(out):
        os.rename(tmp, out)
        return
    old = _aside_name(out)
    held = _lock(out)  # the old version stays locked under its hidden name
    try:
        if exchange(tmp, out):
            fault("swapped")
            os.rename(tmp, old)
        else:
            os.rename(out, old)
            fault("moved-aside")
            os.rename(tmp, out)
            fault("swapped")
    except BaseException:
        if not os.path.lexists(out) and os.path.isdir(old):
            os.rename(old, out)  # the old version back in its place
        raise
    finally:
        try:
            if os.path.lexists(out) and os.path.isdir(old):
                with contextlib.suppress(OSError):
                    os.unlink(old / MARKER)
                fault("removing-old")
        finally:
            if os.path.lexists(out):  # else the old version is all there is: keep it
                _discard(old)
            _unlock(held)


def safe_relative(rel):
    """Refuse (``ValueError``) a relative path that could leave the output folder,
    hide a file, or overwrite the marker: each part must be a plain name.

    >>> safe_relative("tables/binary.tex")
    >>> safe_relative("../chapter1.tex")
    Traceback (most recent call last):
    ...
    ValueError: not a safe relative path for an output file: '../chapter1.tex'
    """
    parts = rel.split("/")
    if not all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", p) for p in parts):
        raise ValueError(f"not a safe relative path for an output file: {rel!r}")
    if rel == MARKER:
        raise ValueError(f"{rel!r} is the marker file")


def write_folder(files, out):
    """Write ``{relative path: text}`` as the folder *out*, replacing an earlier
    output atomically; return the absolute path.

    Raises :class:`Refused` if *out* must not be replaced (see
    :func:`prepare_folder`) and :class:`WriteFailed` if writing fails; in both
    cases *out* is as it was and no temporary folder remains.
    """
    for rel in files:
        safe_relative(rel)
    path = prepare_folder(out)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    except OSError as exc:
        raise WriteFailed(path.parent, exc.strerror) from None
    held = _lock(tmp)
    shown = path  # what the user would call the file being written
    try:
        try:
            for i, (rel, text) in enumerate(sorted(files.items()) + [(MARKER, MARKER_TEXT)]):
                shown = path / rel
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                with open(tmp / rel, "w", encoding="utf-8", newline="\n") as fh:
                    fh.write(text)
                if i == 0:
                    fault("write", shown)
            os.chmod(tmp, 0o755)
            fault("written")
            shown = path
            with _signals_held():
                _swap(tmp, path)
        except OSError as exc:
            raise WriteFailed(shown, exc.strerror or str(exc)) from None
    finally:
        with _signals_held():
            _discard(tmp)
            _unlock(held)
    return path


def write_file(text, dest):
    """Write *text* as the file *dest* through a hidden temporary sibling and an
    atomic rename.  Raises :class:`WriteFailed`; *dest* is then as it was."""
    path = _resolved(dest)
    _make_parent(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    except OSError as exc:
        raise WriteFailed(path, exc.strerror) from None
    tmp = Path(name)
    try:
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                if fcntl is not None:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                fh.write(text)
                fh.flush()
                fault("file", path)
                os.chmod(tmp, 0o644)
                os.replace(tmp, path)
        except OSError as exc:
            raise WriteFailed(path, exc.strerror or str(exc)) from None
    finally:
        with _signals_held(), contextlib.suppress(OSError):
            os.unlink(tmp)
    return path
