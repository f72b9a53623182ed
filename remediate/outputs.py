"""Where results go: checked before the work starts, and a fallback when writing fails at the end.

An audit of a fleet takes minutes to hours; it must not end in a traceback because `--output`
names a path under a regular file, on a read-only or special filesystem (/proc, /sys), a
device (/dev/full), or a disk that is full. So every command that writes a result checks its
destination first by doing what it will do later: make the folder, write a small file there,
flush it to the disk and remove it. Permission bits alone cannot tell: root ignores them, and
a read-only mount or a full disk does not show in them.

A disk can still fill while the hosts answer; whoever writes at the end then saves what it has
with `save_fallback` in the first place that takes it (the system temp folder, the current
folder, the home folder) and names that file, so no result is lost.

Shared by the audit session, the report re-rendering and the commands that write a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from remediate.errors import ExitCode, InputError

_PROBE_PREFIX = ".remediate-write-check-"
# One filesystem block, so the check needs a block to be free, as any report does; written,
# then fsync'ed, so a delayed allocation (ext4, XFS) reports a full disk now, not at close.
_PROBE = b"remediate checks that this folder can be written; this file is removed at once\n"
_PROBE_SIZE = 4096


class OutputError(InputError):
    """A destination that cannot be written; the message names the path and what failed."""


class NotWrittenError(OutputError):
    """The work ran, but its result could not be written at the end (ExitCode.NOT_WRITTEN)."""

    exit_code = ExitCode.NOT_WRITTEN


def describe(exc: OSError) -> str:
    """`No space left on device`, not `[Errno 28] No space left on device: '/x'`."""
    return exc.strerror or exc.__class__.__name__


def check_folder(folder: Path, what: str = "output folder", hint: str | None = None) -> Path:
    """Make `folder` and prove a file can be written in it; OutputError naming it otherwise."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(
            f"{folder}: cannot be the {what}: it exists and is not a folder", hint=hint
        ) from None
    except OSError as exc:
        where = exc.filename if exc.filename and str(exc.filename) != str(folder) else None
        detail = f" ({where})" if where else ""
        raise OutputError(f"{folder}: cannot create the {what}: {describe(exc)}{detail}") from None
    try:
        descriptor, name = tempfile.mkstemp(prefix=_PROBE_PREFIX, dir=folder)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write in the {what}: {describe(exc)}") from None
    try:
        with os.fdopen(descriptor, "wb") as probe:
            probe.write(_PROBE.ljust(_PROBE_SIZE, b"."))
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write in the {what}: {describe(exc)}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    return folder


def check_file(path: Path, what: str) -> Path:
    """The folder of `path` can be written, and `path` is not a folder or a device.

    An existing regular file is left as it is (it is overwritten later, by the command).
    """
    try:
        exists = path.exists() or path.is_symlink()
        regular = path.is_file()
        folder = path.is_dir()
    except OSError as exc:
        raise OutputError(f"{path}: cannot use as the {what}: {describe(exc)}") from None
    if folder:
        raise OutputError(f"{path}: cannot be the {what}: it is a folder", hint="name a file")
    if exists and not regular:
        raise OutputError(
            f"{path}: cannot be the {what}: not a regular file (a device, socket or broken link)"
        )
    try:
        check_folder(path.parent, "folder")
    except OutputError as exc:
        raise OutputError(f"{path}: cannot write the {what}: {exc.message}") from None
    if exists and not os.access(path, os.W_OK):
        raise OutputError(f"{path}: cannot write the {what}: permission denied")
    return path


def fallback_folders() -> list[Path]:
    """Where a result goes when its own destination failed, in order of preference."""
    folders: list[Path] = []
    for find in (tempfile.gettempdir, Path.cwd, Path.home):
        with contextlib.suppress(OSError, RuntimeError, KeyError):
            folder = Path(find())
            if folder not in folders:
                folders.append(folder)
    return folders


def save_fallback(name: str, data: bytes, suffix: str = ".json") -> tuple[Path | None, list[str]]:
    """`data` in a new file `remediate-<name>-XXXX<suffix>` in the first fallback folder that
    takes it (created 0600, never over an existing file or link); the path, or None and why
    each folder failed."""
    failures: list[str] = []
    safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80]
    for folder in fallback_folders():
        try:
            descriptor, written = tempfile.mkstemp(
                prefix=f"remediate-{safe_name}-", suffix=suffix, dir=folder
            )
        except OSError as exc:
            failures.append(f"{folder}: {describe(exc)}")
            continue
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            failures.append(f"{written}: {describe(exc)}")
            with contextlib.suppress(OSError):
                os.unlink(written)
            continue
        return Path(written), failures
    return None, failures


def not_written(path: Path, exc: OSError, name: str, data: bytes, suffix: str) -> NotWrittenError:
    """The error for a result that could not be written to `path`, once `data` is saved in a
    fallback file that the message names (or the message says where saving failed too)."""
    saved, failures = save_fallback(name, data, suffix)
    if saved is not None:
        kept = f"; saved instead to {saved}"
    else:
        kept = f"; no fallback folder took it either ({'; '.join(failures)})"
    return NotWrittenError(f"{path}: cannot write: {describe(exc)}{kept}")
