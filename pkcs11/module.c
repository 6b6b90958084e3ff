/*
 * module.c: load a PKCS#11 module, list its slots, initialize tokens.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/util.h"
#include "pkcs11/p11-int.h"

/*
 * The process id, cached: signing checks it twice per signature (a forked
 * child must not use its parent's sessions), and glibc's getpid() is a
 * system call each time.  A pthread_atfork() child handler refreshes it.
 */
static pid_t cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void
pid_refresh(void)
{
	__atomic_store_n(&cached_pid, getpid(), __ATOMIC_RELAXED);
}

static void
pid_init(void)
{
	pid_refresh();
	pthread_atfork(NULL, NULL, pid_refresh);
}

pid_t
p11_getpid(void)
{
	pthread_once(&pid_once, pid_init);
	return __atomic_load_n(&cached_pid, __ATOMIC_RELAXED);
}

const char *
cairn_p11_default_module(void)
{
	const char *env = getenv("CAIRN_PKCS11_MODULE");

	if (env != NULL && env[0] != '\0')
		return env;
	return CAIRN_DEFAULT_MODULE;
}

/* Add a hint to module errors that are usually a SoftHSM2 set-up problem. */
static const char *
softhsm_hint(const char *path)
{
	static __thread char buf[512];
	const char *conf = getenv("SOFTHSM2_CONF");

	if (strstr(path, "softhsm") == NULL)
		return "";
	snprintf(buf, sizeof(buf),
	    " (SoftHSM2 reads %s%s: check that it exists and that its "
	    "directories.tokendir is a writable directory)",
	    conf ? conf : "/etc/softhsm/softhsm2.conf",
	    conf ? " from SOFTHSM2_CONF" : "");
	return buf;
}

int
cairn_p11_load(const char *path, struct cairn_p11 **out)
{
	CK_C_INITIALIZE_ARGS args;
	CK_C_GetFunctionList getfl;
	struct cairn_p11 *p11;
	CK_RV rv;
	int r;

	*out = NULL;
	if (path == NULL)
		path = cairn_p11_default_module();
	if ((p11 = calloc(1, sizeof(*p11))) == NULL ||
	    (p11->path = strdup(path)) == NULL) {
		free(p11);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	p11->refs = 1;
	pthread_mutex_init(&p11->mu, NULL);
	if (access(path, R_OK) != 0) {
		r = cairn_error(CAIRN_E_P11_MODULE,
		    "cannot load PKCS#11 module %s: %s. Give the module with "
		    "--module PATH%s", path, strerror(errno),
		    strcmp(path, CAIRN_DEFAULT_MODULE) == 0 ?
			", or install SoftHSM2 (apt-get install softhsm2)" :
			"");
		goto fail;
	}
	if ((p11->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		r = cairn_error(CAIRN_E_P11_MODULE,
		    "cannot load PKCS#11 module %s: %s", path, dlerror());
		goto fail;
	}
	*(void **)(&getfl) = dlsym(p11->dl, "C_GetFunctionList");
	if (getfl == NULL) {
		r = cairn_error(CAIRN_E_P11_MODULE,
		    "%s is not a PKCS#11 module: it has no C_GetFunctionList",
		    path);
		goto fail;
	}
	if ((rv = getfl(&p11->f)) != CKR_OK || p11->f == NULL) {
		r = cairn_error(CAIRN_E_P11_MODULE,
		    "%s: C_GetFunctionList failed: %s", path,
		    cairn_ckr_name(rv));
		goto fail;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p11->f->C_Initialize(&args);
	if (rv == CKR_OK)
		p11->finalize = 1;
	else if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		r = cairn_error(CAIRN_E_P11_MODULE,
		    "%s: C_Initialize failed: %s%s", path, cairn_ckr_name(rv),
		    softhsm_hint(path));
		goto fail;
	}
	p11->pid = p11_getpid();
	if ((rv = p11->f->C_GetInfo(&p11->info)) != CKR_OK) {
		r = cairn_error(CAIRN_E_P11_MODULE, "%s: C_GetInfo failed: %s",
		    path, cairn_ckr_name(rv));
		goto fail;
	}
	*out = p11; /* transferred */
	return 0;
fail:
	cairn_p11_free(p11);
	return r;
}

void
p11_ref(struct cairn_p11 *p11)
{
	P11_REF(p11);
}

void
cairn_p11_free(struct cairn_p11 *p11)
{
	if (p11 == NULL || P11_UNREF(p11) != 0)
		return;
	/* Finalize only in the process that initialized: a forked child
	 * must not tear down its parent's state. */
	if (p11->f != NULL && p11->finalize && p11->pid == p11_getpid())
		p11->f->C_Finalize(NULL);
	if (p11->dl != NULL)
		dlclose(p11->dl);
	pthread_mutex_destroy(&p11->mu);
	free(p11->path);
	free(p11);
}

const char *
cairn_p11_module_path(const struct cairn_p11 *p11)
{
	return p11->path;
}

CK_FUNCTION_LIST *
cairn_p11_functions(const struct cairn_p11 *p11)
{
	return p11->f;
}

/*
 * A forked child must call C_Initialize again (PKCS#11 v2.40 section 6.7.7);
 * the sessions it inherited are not its own.
 */
int
p11_reinit_after_fork(struct cairn_p11 *p11)
{
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;
	int r = 0;

	pthread_mutex_lock(&p11->mu);
	if (p11->pid != p11_getpid()) {
		memset(&args, 0, sizeof(args));
		args.flags = CKF_OS_LOCKING_OK;
		rv = p11->f->C_Initialize(&args);
		if (rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED)
			p11->pid = p11_getpid();
		else
			r = cairn_error(CAIRN_E_P11_DEVICE,
			    "%s: C_Initialize in the forked process failed: %s",
			    p11->path, cairn_ckr_name(rv));
	}
	pthread_mutex_unlock(&p11->mu);
	return r;
}

static void
fill_slot_info(struct cairn_p11 *p11, CK_SLOT_ID id,
    struct cairn_p11_slot_info *si)
{
	CK_SLOT_INFO sinfo;
	CK_TOKEN_INFO tinfo;

	memset(si, 0, sizeof(*si));
	si->slot_id = id;
	if (p11->f->C_GetSlotInfo(id, &sinfo) == CKR_OK) {
		cairn_p11_padded_str(si->slot_description,
		    sinfo.slotDescription, sizeof(sinfo.slotDescription));
		si->token_present = (sinfo.flags & CKF_TOKEN_PRESENT) != 0;
	}
	if (si->token_present && p11->f->C_GetTokenInfo(id, &tinfo) == CKR_OK) {
		si->token_flags = tinfo.flags;
		si->token_initialized =
		    (tinfo.flags & CKF_TOKEN_INITIALIZED) != 0;
		si->user_pin_initialized =
		    (tinfo.flags & CKF_USER_PIN_INITIALIZED) != 0;
		cairn_p11_padded_str(si->label, tinfo.label,
		    sizeof(tinfo.label));
		cairn_p11_padded_str(si->manufacturer, tinfo.manufacturerID,
		    sizeof(tinfo.manufacturerID));
		cairn_p11_padded_str(si->model, tinfo.model,
		    sizeof(tinfo.model));
		cairn_p11_padded_str(si->serial, tinfo.serialNumber,
		    sizeof(tinfo.serialNumber));
	}
}

int
cairn_p11_list_slots(struct cairn_p11 *p11, struct cairn_p11_slot_info **out,
    size_t *n)
{
	CK_SLOT_ID *ids = NULL;
	CK_ULONG count = 0, i;
	struct cairn_p11_slot_info *list = NULL;
	CK_RV rv;
	int r;

	*out = NULL;
	*n = 0;
	if ((rv = p11->f->C_GetSlotList(CK_FALSE, NULL, &count)) != CKR_OK)
		return cairn_error(CAIRN_E_P11, "%s: C_GetSlotList: %s",
		    p11->path, cairn_ckr_name(rv));
	if (count > 4096)
		return cairn_error(CAIRN_E_P11, "%s reports %lu slots",
		    p11->path, (unsigned long)count);
	if (count == 0)
		return 0;
	if ((ids = calloc(count, sizeof(*ids))) == NULL ||
	    (list = calloc(count, sizeof(*list))) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rv = p11->f->C_GetSlotList(CK_FALSE, ids, &count)) != CKR_OK) {
		r = cairn_error(CAIRN_E_P11, "%s: C_GetSlotList: %s",
		    p11->path, cairn_ckr_name(rv));
		goto out;
	}
	for (i = 0; i < count; i++)
		fill_slot_info(p11, ids[i], &list[i]);
	*out = list; /* transferred */
	list = NULL;
	*n = count;
	r = 0;
out:
	free(ids);
	free(list);
	return r;
}

char *
cairn_p11_token_uri(const struct cairn_p11_slot_info *si)
{
	struct cairn_p11_uri u;

	memset(&u, 0, sizeof(u));
	u.token = (char *)si->label;
	u.manufacturer = (char *)si->manufacturer;
	u.serial = (char *)si->serial;
	u.model = (char *)si->model;
	return cairn_p11_uri_format(&u);
}

/* Open a R/W session on `slot`, log in as `user` with `pin`, run nothing
 * else: the caller continues with *s. */
static int
login_rw(struct cairn_p11 *p11, CK_SLOT_ID slot, CK_USER_TYPE user,
    const char *pin, CK_SESSION_HANDLE *s)
{
	CK_RV rv;

	rv = p11->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, s);
	if (rv != CKR_OK)
		return cairn_error(CAIRN_E_P11, "C_OpenSession on slot %lu: %s",
		    (unsigned long)slot, cairn_ckr_name(rv));
	rv = p11->f->C_Login(*s, user, (CK_UTF8CHAR *)pin, strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		p11->f->C_CloseSession(*s);
		return cairn_error(rv == CKR_PIN_INCORRECT ?
			CAIRN_E_P11_PIN_INCORRECT : CAIRN_E_P11,
		    "C_Login as %s on slot %lu: %s",
		    user == CKU_SO ? "security officer" : "user",
		    (unsigned long)slot, cairn_ckr_name(rv));
	}
	return 0;
}

int
cairn_p11_token_init(struct cairn_p11 *p11, int has_slot, CK_SLOT_ID slot,
    const char *label, const char *so_pin, const char *user_pin,
    struct cairn_p11_slot_info *info)
{
	struct cairn_p11_slot_info *slots = NULL;
	size_t n = 0, i, found = (size_t)-1;
	CK_UTF8CHAR padded[32];
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int r;

	memset(info, 0, sizeof(*info));
	if (label == NULL || label[0] == '\0' ||
	    strlen(label) > CAIRN_P11_LABEL_MAX)
		return cairn_error(CAIRN_E_INVAL,
		    "a token label has 1 to %d bytes", CAIRN_P11_LABEL_MAX);
	if ((r = cairn_p11_list_slots(p11, &slots, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (slots[i].token_initialized &&
		    strcmp(slots[i].label, label) == 0) {
			r = cairn_error(CAIRN_E_INVAL,
			    "a token labelled \"%s\" exists already (slot %lu, "
			    "serial %s); choose another label", label,
			    (unsigned long)slots[i].slot_id, slots[i].serial);
			goto out;
		}
		if (has_slot ? slots[i].slot_id == slot :
			       (found == (size_t)-1 && slots[i].token_present &&
				   !slots[i].token_initialized))
			found = i;
	}
	if (found == (size_t)-1 && has_slot) {
		r = cairn_error(CAIRN_E_P11_TOKEN_NOT_FOUND,
		    "slot %lu does not exist in %s", (unsigned long)slot,
		    p11->path);
		goto out;
	}
	if (found == (size_t)-1) {
		r = cairn_error(CAIRN_E_P11_TOKEN_NOT_FOUND,
		    "no slot with an uninitialized token in %s (SoftHSM2 "
		    "always offers one; for a hardware token, insert a blank "
		    "one)", p11->path);
		goto out;
	}
	if (slots[found].token_initialized) {
		r = cairn_error(CAIRN_E_P11_TOKEN_STATE,
		    "the token in slot %lu is initialized already (\"%s\"); "
		    "refusing to erase it", (unsigned long)slots[found].slot_id,
		    slots[found].label);
		goto out;
	}
	memset(padded, ' ', sizeof(padded));
	memcpy(padded, label, strlen(label));
	rv = p11->f->C_InitToken(slots[found].slot_id, (CK_UTF8CHAR *)so_pin,
	    strlen(so_pin), padded);
	if (rv != CKR_OK) {
		r = cairn_error(rv == CKR_PIN_LEN_RANGE ? CAIRN_E_INVAL :
							   CAIRN_E_P11,
		    "C_InitToken on slot %lu: %s%s",
		    (unsigned long)slots[found].slot_id, cairn_ckr_name(rv),
		    rv == CKR_PIN_LEN_RANGE ?
			" (the SO PIN is too short or too long for this token)" :
			"");
		goto out;
	}
	/* SoftHSM2 gives the initialized token a new slot: look again. */
	free(slots);
	slots = NULL;
	if ((r = cairn_p11_list_slots(p11, &slots, &n)) != 0)
		goto out;
	found = (size_t)-1;
	for (i = 0; i < n; i++)
		if (slots[i].token_initialized &&
		    !slots[i].user_pin_initialized &&
		    strcmp(slots[i].label, label) == 0)
			found = i;
	if (found == (size_t)-1) {
		r = cairn_error(CAIRN_E_P11,
		    "token \"%s\" was initialized but cannot be found again",
		    label);
		goto out;
	}
	if ((r = login_rw(p11, slots[found].slot_id, CKU_SO, so_pin, &s)) != 0)
		goto out;
	rv = p11->f->C_InitPIN(s, (CK_UTF8CHAR *)user_pin, strlen(user_pin));
	p11->f->C_Logout(s);
	p11->f->C_CloseSession(s);
	if (rv != CKR_OK) {
		r = cairn_error(CAIRN_E_P11, "C_InitPIN: %s%s",
		    cairn_ckr_name(rv), rv == CKR_PIN_LEN_RANGE ?
			" (the user PIN is too short or too long for this "
			"token)" : "");
		goto out;
	}
	fill_slot_info(p11, slots[found].slot_id, info);
	r = 0;
out:
	free(slots);
	return r;
}
