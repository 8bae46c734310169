/* Users and groups by name, read from /etc/passwd and /etc/group themselves, without NSS:
 * the same answer from a static binary, in any libc, and no NSS module loaded into a root
 * process. A name of digits that no entry has is taken as the numeric id. */
#ifndef RUNTIME_PASSWD_H
#define RUNTIME_PASSWD_H

#include <stddef.h>
#include <stdint.h>

#define PW_FILE_MAX (16u << 20)  /* a larger /etc/passwd or /etc/group is refused */

/* Finds name in text[0 .. len), the contents of a passwd file (name:pw:uid:gid:...) or a
 * group file (name:pw:gid:...); the first well-formed line with that name wins. Lines
 * starting with '+' or '-' (NIS), without enough fields, or with an id that is not 1 to
 * 10 decimal digits below 4294967295 are skipped. Pure. Returns 0 and the ids, or -1 when
 * no line matches. */
int pw_find_user(const char *text, size_t len, const char *name, uint32_t *uid, uint32_t *gid);
int pw_find_group(const char *text, size_t len, const char *name, uint32_t *gid);

/* A decimal id as the files write it: 0 and *id, or -1. */
int pw_parse_id(const char *s, size_t len, uint32_t *id);

/* The same over the file at path. A name the file lacks (or a file that does not exist)
 * but made of digits is that id, with gid = uid for a user. Returns 0, or -1 with *why
 * set to a static reason. */
int pw_lookup_user(const char *path, const char *name, uint32_t *uid, uint32_t *gid,
                   const char **why);
int pw_lookup_group(const char *path, const char *name, uint32_t *gid, const char **why);

#endif
