"""The one exception type for user mistakes and missing inputs.

The CLI prints its message as a single paragraph and exits with code 2, without a traceback;
anything else that goes wrong is a bug and keeps its traceback, but for a full disk or an
unwritable folder (`disk_failure`), which ends with one sentence too.
"""

import errno
import os
import re


class SeqexpError(Exception):
    """A bad config value, a missing file or an impossible combination the user can fix."""


# errno of a full disk or an unwritable folder: the cause is outside seqexp, and once it is gone
# the run can be resumed.
_DISK = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "the folder is not writable",
    errno.EPERM: "the folder is not writable",
}


def disk_failure(err: BaseException | None) -> OSError | None:
    """The OSError of a full disk or an unwritable folder behind `err` (its causes included)."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError):
            code = err.errno
            if code is None:  # h5py (Keras' .h5 writes) puts the errno in its message only
                found = re.search(r"errno = (\d+)", str(err))
                code = int(found.group(1)) if found else None
            if code in _DISK:
                err.errno = code
                return err
        err = err.__cause__ or err.__context__
    return None


def disk_message(err: OSError, run_dir=None) -> str:
    """One sentence for a full disk or an unwritable folder (from disk_failure)."""
    where = f" ({err.filename})" if err.filename else ""
    then = (
        f"; once it is fixed, `seqexp resume {run_dir}` continues the run from its last finished epoch"
        if run_dir
        else ""
    )
    return f"Could not write{where}: {_DISK[err.errno]} ({os.strerror(err.errno)}){then}."


class NotThisRun(SeqexpError):
    """The folder holds another run, or a run that is done, or one in use: nothing was changed
    (a sweep records no failure into such a folder)."""
