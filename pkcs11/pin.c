/*
 * pin.c: where a PIN comes from.  Never from argv: a command line is
 * visible to every user of the machine (ps, /proc) and lands in shell
 * history.  So: a file, the URI's pin-source (a file too), an environment
 * variable, or a prompt on the terminal with echo off.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "pkcs11/p11.h"

static int
pin_from_file(const char *path, const char *origin, char **pin)
{
	struct stat st;
	size_t len;
	char *buf;
	int r;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return cairn_error(CAIRN_E_IO,
		    "%s %s is a symbolic link: symbolic links are refused, "
		    "name the file itself", origin, path);
	if (lstat(path, &st) == 0 &&
	    (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) != 0)
		return cairn_error(CAIRN_E_IO,
		    "%s %s has mode %04o: a PIN file must not be readable by "
		    "others nor writable by anyone but its owner; run chmod "
		    "600 %s", origin, path, (unsigned)(st.st_mode & 07777),
		    path);
	if ((r = cairn_read_file(path, CAIRN_PIN_MAX, &buf, &len)) != 0)
		return cairn_error_prefix(r, "%s: ", origin);
	/* One trailing newline (LF or CRLF), as echo and editors leave. */
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0) {
		cairn_free_secret(buf, 1);
		return cairn_error(CAIRN_E_P11_NO_PIN, "%s %s is empty", origin,
		    path);
	}
	if (memchr(buf, '\0', len) != NULL) {
		cairn_free_secret(buf, len);
		return cairn_error(CAIRN_E_P11_NO_PIN,
		    "%s %s contains a NUL byte", origin, path);
	}
	*pin = buf; /* transferred */
	return 0;
}

/* pin-source (RFC 7512): "file:/p", "file:///p", "file://localhost/p" or
 * an absolute path.  Other schemes (a command, a dialog) are refused. */
static int
pin_from_source(const char *src, char **pin)
{
	const char *path = src;

	if (strncmp(src, "file://localhost/", 17) == 0)
		path = src + 16;
	else if (strncmp(src, "file:///", 8) == 0)
		path = src + 7;
	else if (strncmp(src, "file:/", 6) == 0)
		path = src + 5;
	if (path[0] != '/')
		return cairn_error(CAIRN_E_URI_UNSUPPORTED,
		    "pin-source=%s: Cairn reads a PIN only from a file "
		    "(pin-source=file:/absolute/path)", src);
	return pin_from_file(path, "pin-source", pin);
}

static int
pin_from_tty(const char *prompt, char **pin)
{
	struct termios old, quiet;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	char c;
	int fd, restore = 0, r;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return cairn_error(CAIRN_E_P11_NO_PIN, "no terminal to ask on");
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		r = cairn_error(CAIRN_E_IO, "/dev/tty: %s", strerror(errno));
		goto out;
	}
	if ((buf = malloc(CAIRN_PIN_MAX + 1)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		n = read(fd, &c, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n' || c == '\r')
			break;
		if (len == CAIRN_PIN_MAX) {
			r = cairn_error(CAIRN_E_P11_NO_PIN,
			    "PIN longer than %d characters", CAIRN_PIN_MAX);
			goto out;
		}
		buf[len++] = c;
	}
	buf[len] = '\0';
	if (len == 0) {
		r = cairn_error(CAIRN_E_P11_NO_PIN, "no PIN was typed");
		goto out;
	}
	*pin = buf; /* transferred */
	buf = NULL;
	r = 0;
out:
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* nothing more to do: the PIN is read or the error set */
	}
	close(fd);
	cairn_free_secret(buf, CAIRN_PIN_MAX + 1);
	return r;
}

int
cairn_pin_get(const struct cairn_pin_opts *opts, const char *pin_source,
    char **pin)
{
	const char *env;

	*pin = NULL;
	if (opts->pin_file != NULL)
		return pin_from_file(opts->pin_file, "PIN file", pin);
	if (pin_source != NULL)
		return pin_from_source(pin_source, pin);
	if (opts->env_name != NULL && (env = getenv(opts->env_name)) != NULL &&
	    env[0] != '\0') {
		if (strlen(env) > CAIRN_PIN_MAX)
			return cairn_error(CAIRN_E_P11_NO_PIN,
			    "%s is longer than %d characters", opts->env_name,
			    CAIRN_PIN_MAX);
		if ((*pin = strdup(env)) == NULL)
			return cairn_error(CAIRN_E_NOMEM, "out of memory");
		return 0;
	}
	if (opts->prompt != NULL && isatty(STDIN_FILENO) &&
	    pin_from_tty(opts->prompt, pin) == 0)
		return 0;
	return cairn_error(CAIRN_E_P11_NO_PIN,
	    "no PIN given: use --pin-file FILE, a URI with "
	    "pin-source=file:/path, or the %s environment variable, or run "
	    "on a terminal to be asked", opts->env_name ? opts->env_name :
							  "CAIRN_PIN");
}
