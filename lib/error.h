/*
 * error.h: Cairn's one error vocabulary.
 *
 * Every function in lib/ and pkcs11/ returns 0 on success or one of the
 * negative codes below.  The codes and their one-line meanings come from a
 * single X-macro list so that the enum and cairn_strerror() cannot drift
 * apart (the OpenSSH ssherr.h pattern).
 *
 * A code says *what kind* of failure happened; the detail says *which* and
 * *what to do next* ("no token labelled \"Root\"; tokens present: ...").
 * The detail is kept per thread: the function that detects a failure calls
 * cairn_error() to set it, and whoever finally reports the failure prints
 * cairn_errmsg().
 */
#ifndef CAIRN_ERROR_H
#define CAIRN_ERROR_H

#include <stdarg.h>

/* X(name, value, meaning) */
#define CAIRN_ERRORS(X)                                                      \
	X(CAIRN_OK, 0, "success")                                            \
	X(CAIRN_E_NOMEM, -1, "out of memory")                                \
	X(CAIRN_E_INVAL, -2, "invalid argument")                             \
	X(CAIRN_E_USAGE, -3, "invalid command line")                         \
	X(CAIRN_E_IO, -4, "input/output error")                              \
	X(CAIRN_E_TOO_LARGE, -5, "input exceeds a hard limit")               \
	X(CAIRN_E_CRYPTO, -6, "cryptographic operation failed")              \
	X(CAIRN_E_INTERNAL, -7, "internal error")                            \
	X(CAIRN_E_URI_SYNTAX, -20, "malformed PKCS#11 URI")                  \
	X(CAIRN_E_URI_UNSUPPORTED, -21, "PKCS#11 URI attribute refused")     \
	X(CAIRN_E_P11_MODULE, -30, "PKCS#11 module cannot be loaded")        \
	X(CAIRN_E_P11_TOKEN_NOT_FOUND, -31, "token not found")               \
	X(CAIRN_E_P11_TOKEN_AMBIGUOUS, -32, "more than one token matches")   \
	X(CAIRN_E_P11_TOKEN_STATE, -33, "token not usable in its state")     \
	X(CAIRN_E_P11_PIN_INCORRECT, -34, "incorrect PIN")                   \
	X(CAIRN_E_P11_PIN_LOCKED, -35, "PIN locked")                         \
	X(CAIRN_E_P11_NO_PIN, -36, "no PIN available")                       \
	X(CAIRN_E_P11_KEY_NOT_FOUND, -37, "key not found")                   \
	X(CAIRN_E_P11_KEY_AMBIGUOUS, -38, "more than one key matches")       \
	X(CAIRN_E_P11_KEY_EXISTS, -39, "a key with this label exists")       \
	X(CAIRN_E_P11_KEY_POLICY, -40, "key attributes violate policy")      \
	X(CAIRN_E_P11_MECHANISM, -41, "mechanism not supported by token")    \
	X(CAIRN_E_P11_DEVICE, -42, "HSM device lost or session invalid")     \
	X(CAIRN_E_P11, -43, "PKCS#11 call failed")                          \
	X(CAIRN_E_CONFIG, -50, "configuration or script is invalid")        \
	X(CAIRN_E_EXISTS, -51, "output exists already")                     \
	X(CAIRN_E_AUDIT, -60, "log does not verify")                        \
	X(CAIRN_E_MEDIA, -70, "signed media does not verify")               \
	X(CAIRN_E_ROLLBACK, -71, "older than what was seen before")         \
	X(CAIRN_E_LINT, -80, "certificate or CRL fails its checks")         \
	X(CAIRN_E_ABORTED, -90, "stopped by the operator")                 \
	X(CAIRN_E_CSR, -100, "certificate request is malformed")            \
	X(CAIRN_E_POLICY, -101, "refused by the template's policy")         \
	X(CAIRN_E_DENIED, -102, "not allowed for this account")             \
	X(CAIRN_E_AUTH, -103, "authentication failed")                      \
	X(CAIRN_E_NOT_FOUND, -104, "no such object")                        \
	X(CAIRN_E_STATE, -105, "not possible in the object's state")        \
	X(CAIRN_E_STORE, -110, "the store (database) failed")

enum cairn_error {
#define CAIRN_ERR_ENUM(name, value, text) name = value,
	CAIRN_ERRORS(CAIRN_ERR_ENUM)
#undef CAIRN_ERR_ENUM
};

/*
 * cairn_strerror: the fixed one-line meaning of a code.  Never NULL; an
 * unknown code yields "unknown error".
 */
const char *cairn_strerror(int code);

/*
 * cairn_errname: the symbolic name of a code ("CAIRN_E_P11_PIN_INCORRECT"),
 * for logs and tests.  Never NULL.
 */
const char *cairn_errname(int code);

/*
 * cairn_error: record the detail of a failure for this thread and return
 * `code`, so that a failing function can end with
 *	return cairn_error(CAIRN_E_P11_KEY_NOT_FOUND, "no key \"%s\"", label);
 * The detail replaces any earlier one.  A NULL fmt clears the detail.
 */
int cairn_error(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cairn_verror(int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * cairn_error_crypto: like cairn_error(), and appends OpenSSL's error queue
 * (draining it) to the detail, so one message says everything.
 */
int cairn_error_crypto(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * cairn_error_prefix: prepend context ("loading key: ") to the current
 * detail and return `code` unchanged.
 */
int cairn_error_prefix(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * cairn_errmsg: the detail for this thread's last failure, or the meaning
 * of `code` when no detail was recorded.  The string is owned by the
 * thread's buffer and valid until the next cairn_error*() call.
 */
const char *cairn_errmsg(int code);

/* cairn_error_clear: forget this thread's detail. */
void cairn_error_clear(void);

#endif /* CAIRN_ERROR_H */
