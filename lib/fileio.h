/*
 * fileio.h: writing files so that a crash or a failure never leaves half
 * of one behind, and reading them with limits.
 *
 * Every artefact of a ceremony (certificates, CRLs, manifests, logs) is
 * written to a temporary name in the same directory, fsync()ed, renamed
 * into place, and the directory fsync()ed: a reader sees the old file or
 * the whole new one, never a part.  Outputs that exist already are
 * refused unless the caller says replacing is intended (Boulder's
 * ceremony tool refuses them the same way).
 */
#ifndef CAIRN_FILEIO_H
#define CAIRN_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#define FILEIO_REPLACE 0x1  /* an existing file may be replaced */

/*
 * fileio_write_atomic: write `len` bytes to `path` with `mode` through a
 * temporary file in the same directory, fsync, rename, fsync the
 * directory.  Without FILEIO_REPLACE an existing `path` (or a symlink
 * there) is CAIRN_E_EXISTS and nothing is written.  On any failure the
 * temporary file is removed.  Returns 0, CAIRN_E_EXISTS or CAIRN_E_IO.
 */
int fileio_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int flags);

/*
 * fileio_append_sync: append `len` bytes to `path` (created with `mode`
 * when missing; symlinks refused) and fsync before returning, so that a
 * log line written is a log line kept.  Returns 0 or CAIRN_E_IO.
 */
int fileio_append_sync(const char *path, const void *data, size_t len,
    mode_t mode);

/* fileio_fsync_dir: fsync the directory that holds `path`. */
int fileio_fsync_dir(const char *path);

/* fileio_join: "dir/name" into `out` of `size` bytes; CAIRN_E_TOO_LARGE
 * when it does not fit. */
int fileio_join(char *out, size_t size, const char *dir, const char *name);

#endif /* CAIRN_FILEIO_H */
