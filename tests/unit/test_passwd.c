/* Users and groups read from the passwd and group files without NSS: the line that
 * matches, lines that are skipped, ids at their limits, numeric names, and the files. */
#include "passwd.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char passwd[] =
    "root:x:0:0:root:/root:/bin/bash\n"
    "+nis::::::\n"
    "short:x:5\n"
    "bad:x:12a:5:::\n"
    "bad:x:13:5:::\n"
    "nobodyx:x:1:1:::\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    "nobody:x:7:7:::\n"
    "big:x:4294967294:4294967295:::\n"
    "last:x:42:43";

static int
user(const char *name, uint32_t *uid, uint32_t *gid)
{
    return pw_find_user(passwd, strlen(passwd), name, uid, gid);
}

static void
test_pw_first_match(void)
{
    uint32_t uid = 1, gid = 1;

    CU_ASSERT_EQUAL(user("root", &uid, &gid), 0);
    CU_ASSERT_EQUAL(uid, 0);
    CU_ASSERT_EQUAL(gid, 0);
    CU_ASSERT_EQUAL(user("nobody", &uid, &gid), 0);
    CU_ASSERT_EQUAL(uid, 65534);
    CU_ASSERT_EQUAL(gid, 65534);
    CU_ASSERT_EQUAL(user("last", &uid, &gid), 0);   /* no final newline */
    CU_ASSERT_EQUAL(uid, 42);
    CU_ASSERT_EQUAL(gid, 43);
}

static void
test_pw_skipped_lines(void)
{
    uint32_t uid = 0, gid = 0;

    CU_ASSERT_EQUAL(user("bad", &uid, &gid), 0);    /* the malformed line before is skipped */
    CU_ASSERT_EQUAL(uid, 13);
    CU_ASSERT_EQUAL(user("+nis", &uid, &gid), -1);
    CU_ASSERT_EQUAL(user("short", &uid, &gid), -1);
    CU_ASSERT_EQUAL(user("big", &uid, &gid), -1);   /* gid 4294967295 is (gid_t)-1 */
    CU_ASSERT_EQUAL(user("nobod", &uid, &gid), -1);
    CU_ASSERT_EQUAL(user("", &uid, &gid), -1);
    CU_ASSERT_EQUAL(user("root:x", &uid, &gid), -1);
}

static void
test_pw_groups(void)
{
    static const char group[] = "root:x:0:\nnogroup:x:65534:\nstaff:x:50:alice,bob\n";
    uint32_t gid = 0;

    CU_ASSERT_EQUAL(pw_find_group(group, strlen(group), "nogroup", &gid), 0);
    CU_ASSERT_EQUAL(gid, 65534);
    CU_ASSERT_EQUAL(pw_find_group(group, strlen(group), "staff", &gid), 0);
    CU_ASSERT_EQUAL(gid, 50);
    CU_ASSERT_EQUAL(pw_find_group(group, strlen(group), "alice", &gid), -1);
    /* The length given is the end, whatever follows. */
    CU_ASSERT_EQUAL(pw_find_group(group, 12, "nogroup", &gid), -1);
}

static void
test_pw_ids(void)
{
    uint32_t id = 0;

    CU_ASSERT_EQUAL(pw_parse_id("4294967294", 10, &id), 0);
    CU_ASSERT_EQUAL(id, 4294967294u);
    CU_ASSERT_EQUAL(pw_parse_id("4294967295", 10, &id), -1);
    CU_ASSERT_EQUAL(pw_parse_id("99999999999", 11, &id), -1);
    CU_ASSERT_EQUAL(pw_parse_id("", 0, &id), -1);
    CU_ASSERT_EQUAL(pw_parse_id("-1", 2, &id), -1);
    CU_ASSERT_EQUAL(pw_parse_id("007", 3, &id), 0);
    CU_ASSERT_EQUAL(id, 7);
}

static void
test_pw_files(void)
{
    char path[] = "/tmp/sy-passwd-XXXXXX";
    int fd = mkstemp(path);
    uint32_t uid = 0, gid = 0;
    const char *why = NULL;

    CU_ASSERT_FATAL(fd != -1);
    CU_ASSERT_EQUAL(write(fd, passwd, strlen(passwd)), (ssize_t)strlen(passwd));
    close(fd);
    CU_ASSERT_EQUAL(pw_lookup_user(path, "nobody", &uid, &gid, &why), 0);
    CU_ASSERT_EQUAL(uid, 65534);
    /* A number no line names is that id; a name no line has is an error. */
    CU_ASSERT_EQUAL(pw_lookup_user(path, "1000", &uid, &gid, &why), 0);
    CU_ASSERT_EQUAL(uid, 1000);
    CU_ASSERT_EQUAL(gid, 1000);
    CU_ASSERT_EQUAL(pw_lookup_user(path, "0", &uid, &gid, &why), 0);  /* root's line */
    CU_ASSERT_EQUAL(uid, 0);
    CU_ASSERT_EQUAL(pw_lookup_user(path, "www", &uid, &gid, &why), -1);
    CU_ASSERT_STRING_EQUAL(why, "no such name, and not a number");
    unlink(path);
    /* No file at all (an empty chroot): numbers still work, names do not. */
    CU_ASSERT_EQUAL(pw_lookup_group(path, "65534", &gid, &why), 0);
    CU_ASSERT_EQUAL(gid, 65534);
    CU_ASSERT_EQUAL(pw_lookup_group(path, "nogroup", &gid, &why), -1);
    /* A directory cannot be read. */
    CU_ASSERT_EQUAL(pw_lookup_group("/", "nogroup", &gid, &why), -1);
    CU_ASSERT_PTR_NOT_NULL(why);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "first well-formed line wins", test_pw_first_match },
        { "malformed and NIS lines are skipped", test_pw_skipped_lines },
        { "groups", test_pw_groups },
        { "ids", test_pw_ids },
        { "files and numeric names", test_pw_files },
    };

    return UNIT_RUN("passwd", tests);
}
