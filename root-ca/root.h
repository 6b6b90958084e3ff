/*
 * root.h: the commands of cairn-root, the offline root-CA ceremony tool.
 */
#ifndef CAIRN_ROOT_H
#define CAIRN_ROOT_H

#include "lib/cli.h"

int cmd_token_list(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_token_init(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_key_generate(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_key_list(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_key_show(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_run(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_check(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_media_verify(const struct cairn_cmd *cmd, int argc, char **argv);
int cmd_audit_verify(const struct cairn_cmd *cmd, int argc, char **argv);

#endif /* CAIRN_ROOT_H */
