/*
 * softhsm.c: SoftHSM2 as the embedded default HSM, its tokens kept in a
 * data directory of the operator's choosing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "pkcs11/p11.h"

static int
mkdir_private(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return cairn_error(CAIRN_E_IO, "cannot create %s: %s", path,
		    strerror(errno));
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return cairn_error(CAIRN_E_IO,
		    "%s exists and is not a directory (symbolic links are "
		    "refused)", path);
	return 0;
}

int
cairn_softhsm_use_dir(const char *dir)
{
	char abs[PATH_MAX], tokens[PATH_MAX + 16], conf[PATH_MAX + 32];
	char text[PATH_MAX + 256];
	int fd, r, len;

	if ((r = mkdir_private(dir)) != 0)
		return r;
	if (realpath(dir, abs) == NULL)
		return cairn_error(CAIRN_E_IO, "%s: %s", dir, strerror(errno));
	snprintf(tokens, sizeof(tokens), "%s/tokens", abs);
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", abs);
	if ((r = mkdir_private(tokens)) != 0)
		return r;
	fd = open(conf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 && errno != EEXIST)
		return cairn_error(CAIRN_E_IO, "cannot create %s: %s", conf,
		    strerror(errno));
	if (fd != -1) {
		len = snprintf(text, sizeof(text),
		    "# SoftHSM2 configuration written by Cairn for the data "
		    "directory\n# %s. Tokens live in the directory below.\n"
		    "directories.tokendir = %s\n"
		    "objectstore.backend = file\n"
		    "log.level = ERROR\n"
		    "slots.removable = false\n"
		    "slots.mechanisms = ALL\n"
		    "library.reset_on_fork = false\n", abs, tokens);
		if (write(fd, text, (size_t)len) != len || fsync(fd) != 0) {
			r = cairn_error(CAIRN_E_IO, "writing %s: %s", conf,
			    strerror(errno));
			close(fd);
			unlink(conf);
			return r;
		}
		close(fd);
	}
	if (setenv("SOFTHSM2_CONF", conf, 1) != 0)
		return cairn_error(CAIRN_E_IO, "setenv: %s", strerror(errno));
	return 0;
}
