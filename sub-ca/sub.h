/*
 * sub.h: the commands of cairn-sub (sub-ca/cmd_*.c), for main.c's table.
 */
#ifndef CAIRN_SUB_H
#define CAIRN_SUB_H

struct cairn_cmd;

/* sub_data_dir: --data, else $CAIRN_DATA, else NULL. */
const char *sub_data_dir(const char *opt);

int cmd_init(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_import(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_request(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_list(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_approve(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_deny(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_revoke(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_unhold(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_crl(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_audit_verify(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_account_add(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_account_role(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_account_cert(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_serve(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_ocsp_serve(const struct cairn_cmd *cmd, int argc, char **argv);
/* cmd_challenge.c: SCEP one-time challenges */
int cmd_challenge_new(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_challenge_list(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_challenge_revoke(const struct cairn_cmd *cmd, int argc, char **argv);

#endif /* CAIRN_SUB_H */
