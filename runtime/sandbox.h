/* The process's confinement: chroot and the privilege drop at start, the paths it can
 * still reach from inside the chroot, and the system call allow-list (seccomp) once the
 * event loop is set up. See docs/runtime.md, "Privileges" and "System call filter". */
#ifndef RUNTIME_SANDBOX_H
#define RUNTIME_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "table.h"

/* After binding: chroot() into t's chroot, then drop to its user and group, when started
 * as root (not root: leaves them alone, with a notice). Refuses `group` or `chroot`
 * without `user` as root: a process still root can leave a chroot. Borrows t. Returns 0,
 * or -1 with the reason printed to stderr. */
int sandbox_drop(const struct yt_table *t);

/* Creates the directory of file (a path) if it is missing, each missing component with
 * mode 0755, the last one owned by t's `user` (and `group`) when root, so that the process
 * can still remove what it puts there after the privilege drop. Borrows t. Returns 0
 * (also when the directory exists), or -1 with the reason printed to stderr. */
int sandbox_make_dir(const struct yt_table *t, const char *file);

/* path as this process reaches it now: itself before any chroot; inside the chroot
 * directory D, the rest of an absolute path under D ("D/dev/log" -> "/dev/log"); NULL for
 * any other path (outside the jail, or relative). Returns a pointer into path. */
const char *sandbox_path(const char *path);

/* Sets PR_SET_NO_NEW_PRIVS and loads the system call allow-list: anything else kills the
 * process (SECCOMP_RET_KILL_PROCESS). parent: the one process this one may signal, with
 * SIGTERM only (a worker's supervisor), or 0 for none. Call once set-up is over: the
 * list has no open(), bind(), listen(), fork() or execve(). Returns 0, or -1 with the
 * reason printed to stderr. */
int sandbox_seccomp(pid_t parent);

/* Lets the filter of sandbox_seccomp() allow what the kernel relay needs while serving:
 * bpf() to look up, update and delete map entries (the maps are made before), and the
 * ioctl()s that tell how much a socket holds (SIOCINQ, SIOCOUTQ). */
void sandbox_allow_relay_maps(void);

#endif
