/*
 * p11shim.c: a PKCS#11 module that forwards every call to a real module
 * (SoftHSM2, or $CAIRN_SHIM_MODULE) and fails chosen calls on command.
 *
 * SECURITY.md asks for HSM faults (CKR_DEVICE_REMOVED,
 * CKR_SESSION_HANDLE_INVALID, a module that lost its state) to be tested
 * through a shim rather than assumed.  A test loads this module through
 * Cairn's normal loader, then dlopen()s the same path to reach the control
 * functions below (dlopen returns the same handle):
 *
 *	p11shim_fail("C_Sign", CKR_SESSION_HANDLE_INVALID, 1);
 *
 * makes the next C_Sign fail.  For CKR_SESSION_HANDLE_INVALID and
 * CKR_SESSION_CLOSED the shim really closes the session in the real module
 * first, so the failure is not only a return code: a caller that retried
 * on the same handle would fail again.  p11shim_calls() counts calls so a
 * test can assert that a retry (a second C_Sign, a new C_OpenSession, a
 * second C_Login) really happened.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

/* Exported control API (used by tests through dlsym). */
void p11shim_fail(const char *func, CK_RV rv, int count);
unsigned long p11shim_calls(const char *func);
void p11shim_reset(void);
CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

enum {
	F_INITIALIZE, F_OPEN_SESSION, F_LOGIN, F_SIGN_INIT, F_SIGN,
	F_DECRYPT_INIT, F_DECRYPT, F_FIND_OBJECTS_INIT, F_GET_ATTRIBUTE_VALUE,
	F_GENERATE_KEY_PAIR, F_COUNT
};
static const char *const fnames[F_COUNT] = {
	"C_Initialize", "C_OpenSession", "C_Login", "C_SignInit", "C_Sign",
	"C_DecryptInit", "C_Decrypt", "C_FindObjectsInit",
	"C_GetAttributeValue", "C_GenerateKeyPair",
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static CK_RV fail_rv[F_COUNT];
static int fail_count[F_COUNT];
static unsigned long calls[F_COUNT];

static CK_FUNCTION_LIST *real;
static CK_FUNCTION_LIST shim;

static int
fidx(const char *func)
{
	int i;

	for (i = 0; i < F_COUNT; i++)
		if (strcmp(fnames[i], func) == 0)
			return i;
	fprintf(stderr, "p11shim: unknown function %s\n", func);
	abort();
}

void
p11shim_fail(const char *func, CK_RV rv, int count)
{
	int i = fidx(func);

	pthread_mutex_lock(&mu);
	fail_rv[i] = rv;
	fail_count[i] = count;
	pthread_mutex_unlock(&mu);
}

unsigned long
p11shim_calls(const char *func)
{
	unsigned long n;
	int i = fidx(func);

	pthread_mutex_lock(&mu);
	n = calls[i];
	pthread_mutex_unlock(&mu);
	return n;
}

void
p11shim_reset(void)
{
	pthread_mutex_lock(&mu);
	memset(fail_rv, 0, sizeof(fail_rv));
	memset(fail_count, 0, sizeof(fail_count));
	memset(calls, 0, sizeof(calls));
	pthread_mutex_unlock(&mu);
}

/* Count the call; return the injected failure, or CKR_OK to forward. */
static CK_RV
hook(int i)
{
	CK_RV rv = CKR_OK;

	pthread_mutex_lock(&mu);
	calls[i]++;
	if (fail_count[i] > 0) {
		fail_count[i]--;
		rv = fail_rv[i];
	}
	pthread_mutex_unlock(&mu);
	return rv;
}

/* Make a session failure real before reporting it. */
static CK_RV
session_fault(CK_SESSION_HANDLE s, CK_RV rv)
{
	if (rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED)
		real->C_CloseSession(s);
	return rv;
}

static CK_RV
shim_Initialize(CK_VOID_PTR args)
{
	CK_RV rv = hook(F_INITIALIZE);

	return rv != CKR_OK ? rv : real->C_Initialize(args);
}

static CK_RV
shim_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app,
    CK_NOTIFY notify, CK_SESSION_HANDLE_PTR s)
{
	CK_RV rv = hook(F_OPEN_SESSION);

	return rv != CKR_OK ? rv :
			      real->C_OpenSession(slot, flags, app, notify, s);
}

static CK_RV
shim_Login(CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR_PTR pin,
    CK_ULONG len)
{
	CK_RV rv = hook(F_LOGIN);

	return rv != CKR_OK ? session_fault(s, rv) :
			      real->C_Login(s, u, pin, len);
}

static CK_RV
shim_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	CK_RV rv = hook(F_SIGN_INIT);

	return rv != CKR_OK ? session_fault(s, rv) : real->C_SignInit(s, m, k);
}

static CK_RV
shim_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len,
    CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	CK_RV rv = hook(F_SIGN);

	if (rv != CKR_OK) {
		/* End the active operation as a failed C_Sign does. */
		CK_BYTE buf[1024];
		CK_ULONG l = sizeof(buf);
		real->C_Sign(s, data, len, buf, &l);
		return session_fault(s, rv);
	}
	return real->C_Sign(s, data, len, sig, siglen);
}

static CK_RV
shim_DecryptInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	CK_RV rv = hook(F_DECRYPT_INIT);

	return rv != CKR_OK ? session_fault(s, rv) :
			      real->C_DecryptInit(s, m, k);
}

static CK_RV
shim_Decrypt(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inlen,
    CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	CK_RV rv = hook(F_DECRYPT);

	if (rv != CKR_OK) {
		CK_BYTE buf[1024];
		CK_ULONG l = sizeof(buf);
		real->C_Decrypt(s, in, inlen, buf, &l);
		return session_fault(s, rv);
	}
	return real->C_Decrypt(s, in, inlen, out, outlen);
}

static CK_RV
shim_FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	CK_RV rv = hook(F_FIND_OBJECTS_INIT);

	return rv != CKR_OK ? session_fault(s, rv) :
			      real->C_FindObjectsInit(s, t, n);
}

static CK_RV
shim_GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	CK_RV rv = hook(F_GET_ATTRIBUTE_VALUE);

	return rv != CKR_OK ? session_fault(s, rv) :
			      real->C_GetAttributeValue(s, o, t, n);
}

static CK_RV
shim_GenerateKeyPair(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
    CK_ATTRIBUTE_PTR pub, CK_ULONG npub, CK_ATTRIBUTE_PTR priv,
    CK_ULONG npriv, CK_OBJECT_HANDLE_PTR hpub, CK_OBJECT_HANDLE_PTR hpriv)
{
	CK_RV rv = hook(F_GENERATE_KEY_PAIR);

	return rv != CKR_OK ? session_fault(s, rv) :
			      real->C_GenerateKeyPair(s, m, pub, npub, priv,
				  npriv, hpub, hpriv);
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	const char *path = getenv("CAIRN_SHIM_MODULE");
	CK_C_GetFunctionList getfl;
	void *dl;
	CK_RV rv;

	if (real == NULL) {
		if (path == NULL || path[0] == '\0')
			path = CAIRN_DEFAULT_MODULE;
		if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
			fprintf(stderr, "p11shim: %s\n", dlerror());
			return CKR_GENERAL_ERROR;
		}
		*(void **)(&getfl) = dlsym(dl, "C_GetFunctionList");
		if (getfl == NULL || (rv = getfl(&real)) != CKR_OK)
			return CKR_GENERAL_ERROR;
		shim = *real;
		shim.C_Initialize = shim_Initialize;
		shim.C_OpenSession = shim_OpenSession;
		shim.C_Login = shim_Login;
		shim.C_SignInit = shim_SignInit;
		shim.C_Sign = shim_Sign;
		shim.C_DecryptInit = shim_DecryptInit;
		shim.C_Decrypt = shim_Decrypt;
		shim.C_FindObjectsInit = shim_FindObjectsInit;
		shim.C_GetAttributeValue = shim_GetAttributeValue;
		shim.C_GenerateKeyPair = shim_GenerateKeyPair;
	}
	*list = &shim;
	return CKR_OK;
}
