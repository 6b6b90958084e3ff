/*
 * token.c: choose a token, log in, and lend sessions to signing threads.
 *
 * The pool: a token keeps one session open for its whole life (the login
 * lives as long as the application has a session) and lends other
 * sessions, one per concurrent operation, up to max_sessions.  A thread
 * that finds none free waits, at most CAIRN_P11_SESSION_WAIT_SEC.
 *
 * Re-open: when the module says a session or the device is gone, the
 * token's generation is bumped, its sessions are forgotten, the token is
 * found again (by label and serial: a re-inserted device may sit in
 * another slot), a session opened and the user logged in again with the
 * PIN kept in locked memory.  Sessions lent before the bump are closed
 * when they come back; keys look their object handle up again.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/error.h"
#include "lib/util.h"
#include "pkcs11/p11-int.h"

#define SESSION_FLAGS (CKF_SERIAL_SESSION | CKF_RW_SESSION)

/* Describe the tokens present, for "not found" and "ambiguous" messages. */
static void
describe_tokens(struct cairn_p11 *p11, char *buf, size_t size)
{
	struct cairn_p11_slot_info *slots = NULL;
	size_t n = 0, i, len = 0, shown = 0;

	buf[0] = '\0';
	if (cairn_p11_list_slots(p11, &slots, &n) != 0 || n == 0) {
		snprintf(buf, size, "none");
		free(slots);
		return;
	}
	for (i = 0; i < n && len < size; i++) {
		if (!slots[i].token_present)
			continue;
		if (shown == CAIRN_LIST_IN_ERROR_MAX) {
			snprintf(buf + len, size - len, ", ...");
			break;
		}
		if (slots[i].token_initialized)
			len += (size_t)snprintf(buf + len, size - len,
			    "%s\"%s\" (slot %lu, serial %s)",
			    shown ? ", " : "", slots[i].label,
			    (unsigned long)slots[i].slot_id, slots[i].serial);
		else
			len += (size_t)snprintf(buf + len, size - len,
			    "%san uninitialized token (slot %lu)",
			    shown ? ", " : "", (unsigned long)slots[i].slot_id);
		shown++;
	}
	if (shown == 0)
		snprintf(buf, size, "none");
	free(slots);
}

static int
token_matches(struct cairn_p11 *p11, const struct cairn_p11_uri *sel,
    CK_SLOT_ID id, CK_TOKEN_INFO *tinfo)
{
	CK_SLOT_INFO sinfo;

	if (p11->f->C_GetSlotInfo(id, &sinfo) != CKR_OK ||
	    !(sinfo.flags & CKF_TOKEN_PRESENT))
		return 0;
	if (p11->f->C_GetTokenInfo(id, tinfo) != CKR_OK)
		return 0;
	return cairn_p11_uri_match_slot(sel, id, &sinfo) &&
	    cairn_p11_uri_match_token(sel, tinfo);
}

/* Find the one slot whose token matches `sel`. */
static int
find_token(struct cairn_p11 *p11, const struct cairn_p11_uri *sel,
    CK_SLOT_ID *slot, CK_TOKEN_INFO *info)
{
	CK_SLOT_ID *ids = NULL;
	CK_ULONG count = 0, i, matches = 0;
	CK_TOKEN_INFO tinfo;
	char *what = NULL, list[1024];
	CK_RV rv;
	int r;

	if (!cairn_p11_uri_match_library(sel, &p11->info)) {
		what = cairn_p11_uri_format(sel);
		r = cairn_error(CAIRN_E_P11_TOKEN_NOT_FOUND,
		    "module %s does not match the library attributes of %s",
		    p11->path, what ? what : "the URI");
		goto out;
	}
	if ((rv = p11->f->C_GetSlotList(CK_TRUE, NULL, &count)) != CKR_OK) {
		r = cairn_error(CAIRN_E_P11, "C_GetSlotList: %s",
		    cairn_ckr_name(rv));
		goto out;
	}
	if (count > 4096 ||
	    (count > 0 && (ids = calloc(count, sizeof(*ids))) == NULL)) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if (count > 0 &&
	    (rv = p11->f->C_GetSlotList(CK_TRUE, ids, &count)) != CKR_OK) {
		r = cairn_error(CAIRN_E_P11, "C_GetSlotList: %s",
		    cairn_ckr_name(rv));
		goto out;
	}
	for (i = 0; i < count; i++) {
		if (!token_matches(p11, sel, ids[i], &tinfo))
			continue;
		/* An empty selection ("pkcs11:") means "the one initialized
		 * token": blank tokens never match it. */
		if (!(tinfo.flags & CKF_TOKEN_INITIALIZED) &&
		    sel->token == NULL)
			continue;
		if (matches++ == 0) {
			*slot = ids[i];
			*info = tinfo;
		}
	}
	if (matches == 1) {
		r = 0;
		goto out;
	}
	describe_tokens(p11, list, sizeof(list));
	what = cairn_p11_uri_format(sel);
	if (matches == 0 && sel->unknown_attr != NULL)
		r = cairn_error(CAIRN_E_P11_TOKEN_NOT_FOUND,
		    "no token matches %s: it carries the attribute \"%s\", "
		    "which Cairn does not know, so it matches nothing (RFC "
		    "7512 section 2.5). Tokens present: %s",
		    what ? what : "the URI", sel->unknown_attr, list);
	else if (matches == 0)
		r = cairn_error(CAIRN_E_P11_TOKEN_NOT_FOUND,
		    "no token matches %s in %s. Tokens present: %s",
		    what ? what : "the URI", p11->path, list);
	else
		r = cairn_error(CAIRN_E_P11_TOKEN_AMBIGUOUS,
		    "%lu tokens match %s; name one by serial (serial=...) or "
		    "slot-id. Tokens present: %s", (unsigned long)matches,
		    what ? what : "the URI", list);
out:
	free(what);
	free(ids);
	return r;
}

int
cairn_p11_token_open(struct cairn_p11 *p11, const struct cairn_p11_uri *sel,
    struct cairn_p11_token **out)
{
	struct cairn_p11_token *tok = NULL;
	pthread_condattr_t ca;
	CK_TOKEN_INFO info;
	CK_SLOT_ID slot = 0;
	CK_ULONG max;
	CK_RV rv;
	int r;

	*out = NULL;
	if ((r = find_token(p11, sel, &slot, &info)) != 0)
		return r;
	if (!(info.flags & CKF_TOKEN_INITIALIZED))
		return cairn_error(CAIRN_E_P11_TOKEN_STATE,
		    "the token in slot %lu is not initialized: initialize it "
		    "with \"cairn-root token init --label LABEL\"",
		    (unsigned long)slot);
	if ((info.flags & CKF_LOGIN_REQUIRED) &&
	    !(info.flags & CKF_USER_PIN_INITIALIZED))
		return cairn_error(CAIRN_E_P11_TOKEN_STATE,
		    "the token in slot %lu has no user PIN yet: the security "
		    "officer must set one (C_InitPIN)", (unsigned long)slot);
	if ((tok = calloc(1, sizeof(*tok))) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	tok->refs = 1;
	p11_ref(p11);
	tok->p11 = p11;
	tok->f = p11->f;
	tok->slot = slot;
	tok->flags = info.flags;
	tok->pid = p11_getpid();
	tok->login_session = CK_INVALID_HANDLE;
	pthread_mutex_init(&tok->mu, NULL);
	/* The wait for a free session must not stretch or shrink when
	 * someone sets the clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&tok->cv, &ca);
	pthread_condattr_destroy(&ca);
	cairn_p11_padded_str(tok->label, info.label, sizeof(info.label));
	cairn_p11_padded_str(tok->serial, info.serialNumber,
	    sizeof(info.serialNumber));
	cairn_p11_padded_str(tok->manufacturer, info.manufacturerID,
	    sizeof(info.manufacturerID));
	cairn_p11_padded_str(tok->model, info.model, sizeof(info.model));
	/* Leave one session of the token's limit to the login session. */
	max = info.ulMaxRwSessionCount;
	if (max == CK_EFFECTIVELY_INFINITE || max == CK_UNAVAILABLE_INFORMATION ||
	    max > CAIRN_P11_SESSIONS_MAX + 1)
		tok->max_sessions = CAIRN_P11_SESSIONS_MAX;
	else
		tok->max_sessions = max > 1 ? max - 1 : 1;
	rv = p11->f->C_OpenSession(slot, SESSION_FLAGS, NULL, NULL,
	    &tok->login_session);
	if (rv != CKR_OK) {
		r = cairn_error(CAIRN_E_P11_DEVICE,
		    "cannot open a session on token \"%s\" (slot %lu): %s",
		    tok->label, (unsigned long)slot, cairn_ckr_name(rv));
		tok->login_session = CK_INVALID_HANDLE;
		cairn_p11_token_free(tok);
		return r;
	}
	*out = tok; /* transferred */
	return 0;
}

void
p11_token_ref(struct cairn_p11_token *tok)
{
	P11_REF(tok);
}

static void
forget_pin(struct cairn_p11_token *tok)
{
	if (tok->pin == NULL)
		return;
	OPENSSL_cleanse(tok->pin, tok->pin_len + 1);
	munlock(tok->pin, tok->pin_len + 1);
	free(tok->pin);
	tok->pin = NULL;
	tok->pin_len = 0;
}

void
cairn_p11_token_free(struct cairn_p11_token *tok)
{
	size_t i;

	if (tok == NULL || P11_UNREF(tok) != 0)
		return;
	if (tok->pid == p11_getpid()) {
		for (i = 0; i < tok->nidle; i++)
			tok->f->C_CloseSession(tok->idle[i]);
		if (tok->login_session != CK_INVALID_HANDLE)
			tok->f->C_CloseSession(tok->login_session);
	}
	forget_pin(tok);
	pthread_mutex_destroy(&tok->mu);
	pthread_cond_destroy(&tok->cv);
	cairn_p11_free(tok->p11);
	free(tok);
}

const char *
cairn_p11_token_label(const struct cairn_p11_token *tok)
{
	return tok->label;
}

CK_SLOT_ID
cairn_p11_token_slot(const struct cairn_p11_token *tok)
{
	return tok->slot;
}

struct cairn_p11 *
cairn_p11_token_module(const struct cairn_p11_token *tok)
{
	return tok->p11;
}

int
cairn_p11_token_needs_login(const struct cairn_p11_token *tok)
{
	return (tok->flags & CKF_LOGIN_REQUIRED) != 0;
}

int
p11_token_flags(struct cairn_p11_token *tok, CK_FLAGS *flags)
{
	CK_TOKEN_INFO info;
	CK_RV rv;

	*flags = 0;
	if ((rv = tok->f->C_GetTokenInfo(tok->slot, &info)) != CKR_OK)
		return cairn_error(CAIRN_E_P11, "C_GetTokenInfo: %s",
		    cairn_ckr_name(rv));
	*flags = info.flags;
	return 0;
}

/* What the token says about the user PIN's remaining tries. */
static const char *
pin_tries(struct cairn_p11_token *tok)
{
	CK_FLAGS flags;

	if (p11_token_flags(tok, &flags) != 0)
		return "the token did not say how many tries remain";
	if (flags & CKF_USER_PIN_LOCKED)
		return "the token reports the PIN is now locked "
		       "(CKF_USER_PIN_LOCKED)";
	if (flags & CKF_USER_PIN_FINAL_TRY)
		return "the token reports ONE try left before the PIN locks "
		       "(CKF_USER_PIN_FINAL_TRY)";
	if (flags & CKF_USER_PIN_COUNT_LOW)
		return "the token reports few tries left "
		       "(CKF_USER_PIN_COUNT_LOW)";
	return "the token reports no low retry count (it sets neither "
	       "CKF_USER_PIN_COUNT_LOW nor CKF_USER_PIN_FINAL_TRY)";
}

/* C_Login on the login session; tok->mu held. */
static CK_RV
login_locked(struct cairn_p11_token *tok, const char *pin, size_t len)
{
	CK_RV rv;

	rv = tok->f->C_Login(tok->login_session, CKU_USER, (CK_UTF8CHAR *)pin,
	    len);
	return rv == CKR_USER_ALREADY_LOGGED_IN ? CKR_OK : rv;
}

int
cairn_p11_token_login(struct cairn_p11_token *tok, const char *pin)
{
	size_t len = strlen(pin);
	CK_TOKEN_INFO info;
	char *copy;
	CK_RV rv;

	if (len > CAIRN_PIN_MAX)
		return cairn_error(CAIRN_E_P11_PIN_INCORRECT,
		    "the PIN is longer than %d bytes", CAIRN_PIN_MAX);
	pthread_mutex_lock(&tok->mu);
	rv = login_locked(tok, pin, len);
	if (rv == CKR_OK) {
		if ((copy = malloc(len + 1)) != NULL) {
			(void)mlock(copy, len + 1);
			memcpy(copy, pin, len + 1);
			forget_pin(tok);
			tok->pin = copy;
			tok->pin_len = len;
		}
		tok->logged_in = 1;
	}
	pthread_mutex_unlock(&tok->mu);
	switch (rv) {
	case CKR_OK:
		return 0;
	case CKR_PIN_INCORRECT:
		return cairn_error(CAIRN_E_P11_PIN_INCORRECT,
		    "incorrect PIN for token \"%s\" (CKR_PIN_INCORRECT); %s. "
		    "Check the PIN file or CAIRN_PIN before trying again",
		    tok->label, pin_tries(tok));
	case CKR_PIN_LEN_RANGE:
		if (tok->f->C_GetTokenInfo(tok->slot, &info) == CKR_OK)
			return cairn_error(CAIRN_E_P11_PIN_INCORRECT,
			    "the PIN for token \"%s\" has %zu characters; the "
			    "token accepts %lu to %lu (CKR_PIN_LEN_RANGE)",
			    tok->label, len, (unsigned long)info.ulMinPinLen,
			    (unsigned long)info.ulMaxPinLen);
		return cairn_error(CAIRN_E_P11_PIN_INCORRECT,
		    "the PIN length is outside the token's range "
		    "(CKR_PIN_LEN_RANGE)");
	case CKR_PIN_LOCKED:
		return cairn_error(CAIRN_E_P11_PIN_LOCKED,
		    "the user PIN of token \"%s\" is locked (CKR_PIN_LOCKED): "
		    "the security officer must unlock it with the HSM's own "
		    "tools before anyone can log in", tok->label);
	case CKR_PIN_EXPIRED:
		return cairn_error(CAIRN_E_P11_PIN_LOCKED,
		    "the user PIN of token \"%s\" has expired "
		    "(CKR_PIN_EXPIRED): change it with the HSM's tools",
		    tok->label);
	default:
		return cairn_error(p11_rv_recoverable(rv) ? CAIRN_E_P11_DEVICE :
							    CAIRN_E_P11,
		    "login to token \"%s\" failed: %s", tok->label,
		    cairn_ckr_name(rv));
	}
}

/*
 * Find the token again after it went away; tok->mu held.  The slot may
 * have changed, the label and serial may not.
 */
static int
refind_locked(struct cairn_p11_token *tok)
{
	struct cairn_p11_uri sel;
	CK_TOKEN_INFO info;
	CK_SLOT_ID slot;
	int r;

	memset(&sel, 0, sizeof(sel));
	sel.token = tok->label;
	sel.serial = tok->serial;
	if ((r = find_token(tok->p11, &sel, &slot, &info)) != 0)
		return cairn_error_prefix(CAIRN_E_P11_DEVICE,
		    "token \"%s\" (serial %s) is gone: ", tok->label,
		    tok->serial);
	tok->slot = slot;
	return 0;
}

int
p11_token_reopen(struct cairn_p11_token *tok, unsigned seen_generation,
    CK_RV why)
{
	CK_RV rv;
	size_t i;
	int r = 0, forked;

	pthread_mutex_lock(&tok->mu);
	forked = tok->pid != p11_getpid();
	if (!forked && tok->generation != seen_generation)
		goto out; /* another thread re-opened already */
	tok->generation++;
	/* Sessions of a dead device are gone; after fork they belong to the
	 * parent and must not be closed from here. */
	if (!forked) {
		for (i = 0; i < tok->nidle; i++)
			tok->f->C_CloseSession(tok->idle[i]);
		if (tok->login_session != CK_INVALID_HANDLE)
			tok->f->C_CloseSession(tok->login_session);
	}
	tok->nidle = 0;
	tok->nopen = 0;
	tok->login_session = CK_INVALID_HANDLE;
	pthread_cond_broadcast(&tok->cv);
	if (forked || why == CKR_CRYPTOKI_NOT_INITIALIZED) {
		if (forked)
			tok->p11->pid = 0; /* force C_Initialize */
		if ((r = p11_reinit_after_fork(tok->p11)) != 0)
			goto out;
		tok->pid = p11_getpid();
	}
	rv = tok->f->C_OpenSession(tok->slot, SESSION_FLAGS, NULL, NULL,
	    &tok->login_session);
	if (rv != CKR_OK && refind_locked(tok) == 0)
		rv = tok->f->C_OpenSession(tok->slot, SESSION_FLAGS, NULL,
		    NULL, &tok->login_session);
	if (rv != CKR_OK) {
		tok->login_session = CK_INVALID_HANDLE;
		r = cairn_error(CAIRN_E_P11_DEVICE,
		    "re-opening token \"%s\"%s%s: C_OpenSession: %s",
		    tok->label, why != CKR_OK ? " after " : "",
		    why != CKR_OK ? cairn_ckr_name(why) : "",
		    cairn_ckr_name(rv));
		goto out;
	}
	if (tok->logged_in && tok->pin != NULL &&
	    (rv = login_locked(tok, tok->pin, tok->pin_len)) != CKR_OK) {
		/* Without a login the session is of no use; the next caller
		 * tries the whole re-open again. */
		tok->f->C_CloseSession(tok->login_session);
		tok->login_session = CK_INVALID_HANDLE;
		r = cairn_error(CAIRN_E_P11_DEVICE,
		    "re-opening token \"%s\"%s%s: login again: %s",
		    tok->label, why != CKR_OK ? " after " : "",
		    why != CKR_OK ? cairn_ckr_name(why) : "",
		    cairn_ckr_name(rv));
		goto out;
	}
out:
	pthread_mutex_unlock(&tok->mu);
	return r;
}

int
p11_session_get(struct cairn_p11_token *tok, struct p11_lease *lease)
{
	struct timespec deadline;
	CK_SESSION_HANDLE h;
	unsigned gen;
	CK_RV rv;
	int r;

	lease->h = CK_INVALID_HANDLE;
	lease->rv = CKR_OK;
	/* After a fork, or after a re-open that failed half-way (no login
	 * session), re-open before lending anything. */
	pthread_mutex_lock(&tok->mu);
	gen = tok->generation;
	r = tok->pid != p11_getpid() || tok->login_session == CK_INVALID_HANDLE;
	pthread_mutex_unlock(&tok->mu);
	if (r && (r = p11_token_reopen(tok, gen, CKR_OK)) != 0) {
		lease->rv = CKR_DEVICE_ERROR;
		lease->generation = gen + 1;
		return r;
	}
	deadline.tv_sec = 0;
	pthread_mutex_lock(&tok->mu);
	for (;;) {
		if (tok->nidle > 0) {
			lease->h = tok->idle[--tok->nidle];
			lease->generation = tok->generation;
			pthread_mutex_unlock(&tok->mu);
			return 0;
		}
		if (tok->nopen < tok->max_sessions) {
			tok->nopen++;
			gen = tok->generation;
			pthread_mutex_unlock(&tok->mu);
			rv = tok->f->C_OpenSession(tok->slot, SESSION_FLAGS,
			    NULL, NULL, &h);
			if (rv == CKR_OK) {
				lease->h = h;
				lease->generation = gen;
				return 0;
			}
			pthread_mutex_lock(&tok->mu);
			if (gen == tok->generation)
				tok->nopen--;
			if (rv == CKR_SESSION_COUNT && tok->nopen > 0) {
				/* The token holds fewer than it said: remember
				 * and wait for one to come back. */
				tok->max_sessions = tok->nopen;
				continue;
			}
			pthread_mutex_unlock(&tok->mu);
			lease->rv = rv;
			lease->generation = gen;
			return cairn_error(p11_rv_recoverable(rv) ?
				CAIRN_E_P11_DEVICE : CAIRN_E_P11,
			    "cannot open a session on token \"%s\": %s",
			    tok->label, cairn_ckr_name(rv));
		}
		if (deadline.tv_sec == 0) {
			/* Only now, when a thread must wait, read the clock. */
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			deadline.tv_sec += CAIRN_P11_SESSION_WAIT_SEC;
		}
		r = pthread_cond_timedwait(&tok->cv, &tok->mu, &deadline);
		if (r == ETIMEDOUT) {
			pthread_mutex_unlock(&tok->mu);
			return cairn_error(CAIRN_E_P11_DEVICE,
			    "no session of token \"%s\" became free within %d "
			    "s (%zu in use): the HSM may be hung",
			    tok->label, CAIRN_P11_SESSION_WAIT_SEC,
			    tok->nopen);
		}
	}
}

void
p11_session_put(struct cairn_p11_token *tok, struct p11_lease *lease,
    int discard)
{
	int current, ours;

	if (lease->h == CK_INVALID_HANDLE)
		return;
	pthread_mutex_lock(&tok->mu);
	ours = tok->pid == p11_getpid();
	current = lease->generation == tok->generation && ours;
	if (current && !discard && tok->nidle < CAIRN_P11_SESSIONS_MAX) {
		tok->idle[tok->nidle++] = lease->h;
		pthread_cond_signal(&tok->cv);
		pthread_mutex_unlock(&tok->mu);
		lease->h = CK_INVALID_HANDLE;
		return;
	}
	if (current) {
		tok->nopen--;
		pthread_cond_signal(&tok->cv);
	}
	pthread_mutex_unlock(&tok->mu);
	if (ours)
		tok->f->C_CloseSession(lease->h);
	lease->h = CK_INVALID_HANDLE;
}
