"""Writing output files safely: atomically, and never over an existing file unless asked.

A report that is half-written when the disk fills or the user hits Ctrl-C must not replace a
good one, so the bytes go to a temporary file in the same directory first and are moved into
place with one rename. Without ``overwrite`` the final step is a hard link, which fails if the
target appeared in the meantime, so even a race cannot clobber a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from planner.errors import InputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` all at once; InputError (exit 2) if it exists and not ``overwrite``."""
    target = Path(path)
    shown = str(path)
    if target.is_dir():
        raise InputError.single(shown, "is a directory; give a file name for the output")
    if not overwrite and target.exists():
        raise InputError.single(shown, "already exists; pass --overwrite to replace it")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError.single(shown, f"folder '{parent}' does not exist")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp_name = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError.single(shown, f"cannot write here: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise InputError.single(shown, "already exists; pass --overwrite to replace it") from None
            except OSError:  # file systems without hard links: best effort
                if target.exists():
                    raise InputError.single(shown, "already exists; pass --overwrite to replace it") from None
                os.replace(tmp, target)
    except OSError as exc:
        raise InputError.single(shown, f"cannot write the file: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target
