/*
 * p11-int.h: what the files of pkcs11/ share and nobody else sees.
 */
#ifndef CAIRN_P11_INT_H
#define CAIRN_P11_INT_H

#include <pthread.h>
#include <sys/types.h>

#include "lib/limits.h"
#include "pkcs11/p11.h"

struct cairn_p11 {
	int refs;                     /* atomic */
	void *dl;
	CK_FUNCTION_LIST *f;
	char *path;
	int finalize;                 /* we ran C_Initialize, we finalize */
	pid_t pid;                    /* process that initialized */
	pthread_mutex_t mu;           /* guards re-initialization */
	CK_INFO info;
};

struct cairn_p11_token {
	int refs;                     /* atomic */
	struct cairn_p11 *p11;        /* reference */
	CK_FUNCTION_LIST *f;          /* == p11->f */
	CK_SLOT_ID slot;
	char label[CAIRN_P11_LABEL_MAX + 1];
	char serial[CAIRN_P11_SERIAL_MAX + 1];
	char manufacturer[33];
	char model[17];
	CK_FLAGS flags;               /* token flags when opened */

	pthread_mutex_t mu;           /* guards everything below */
	pthread_cond_t cv;            /* a session came back to the pool */
	/* Held open for the token's life: PKCS#11 ends the login when the
	 * application's last session closes. */
	CK_SESSION_HANDLE login_session;
	CK_SESSION_HANDLE idle[CAIRN_P11_SESSIONS_MAX];
	size_t nidle;                 /* sessions waiting in idle[] */
	size_t nopen;                 /* pool sessions open (idle + lent) */
	size_t max_sessions;
	unsigned generation;          /* bumped by every re-open */
	pid_t pid;                    /* process the sessions belong to */
	char *pin;                    /* mlock()ed, for re-login; or NULL */
	size_t pin_len;
	int logged_in;
};

struct cairn_p11_key {
	int refs;                     /* atomic */
	struct cairn_p11_token *tok;  /* reference */
	pthread_mutex_t mu;           /* guards handle, public handle, gen */
	CK_OBJECT_HANDLE handle;      /* private key object */
	unsigned generation;          /* tok->generation the handle is for */
	CK_KEY_TYPE ck_type;
	enum cairn_key_type type;
	int bits;
	size_t sig_len;               /* bytes of one raw signature */
	uint8_t id[CAIRN_P11_ID_MAX];
	size_t id_len;
	char label[CAIRN_P11_OBJLABEL_MAX + 1];
	EVP_PKEY *pub;                /* software public key */
};

/* A session lent by the pool, tagged with the generation it belongs to. */
struct p11_lease {
	CK_SESSION_HANDLE h;
	unsigned generation;
	CK_RV rv;                     /* why p11_session_get() failed */
};

/* token.c */
int p11_session_get(struct cairn_p11_token *tok, struct p11_lease *lease);
void p11_session_put(struct cairn_p11_token *tok, struct p11_lease *lease,
    int discard);
int p11_token_reopen(struct cairn_p11_token *tok, unsigned seen_generation,
    CK_RV why);
int p11_token_flags(struct cairn_p11_token *tok, CK_FLAGS *flags);
void p11_token_ref(struct cairn_p11_token *tok);

/* module.c */
void p11_ref(struct cairn_p11 *p11);
/* getpid(), cached and refreshed in forked children. */
pid_t p11_getpid(void);
int p11_reinit_after_fork(struct cairn_p11 *p11);

/* key.c */
/* Build a key object for the private key `hpriv` (reads label, id, type
 * and the public key); takes a reference on `tok`. */
int p11_key_load(struct cairn_p11_token *tok, struct p11_lease *lease,
    CK_OBJECT_HANDLE hpriv, struct cairn_p11_key **out);
int p11_key_handle(struct cairn_p11_key *key, struct p11_lease *lease,
    CK_OBJECT_HANDLE *h);

/* ckr.c */
/* 1 when `rv` means the session or the device is gone and a re-open may
 * help: CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_DEVICE_REMOVED,
 * CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_ERROR, CKR_USER_NOT_LOGGED_IN,
 * CKR_CRYPTOKI_NOT_INITIALIZED, CKR_OBJECT_HANDLE_INVALID,
 * CKR_KEY_HANDLE_INVALID. */
int p11_rv_recoverable(CK_RV rv);
/* 1 when only this session is lost (the pool can just drop it). */
int p11_rv_session_only(CK_RV rv);

/* Atomic reference counting. */
#define P11_REF(x) __atomic_add_fetch(&(x)->refs, 1, __ATOMIC_RELAXED)
#define P11_UNREF(x) __atomic_sub_fetch(&(x)->refs, 1, __ATOMIC_ACQ_REL)

#endif /* CAIRN_P11_INT_H */
