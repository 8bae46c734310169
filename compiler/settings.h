/* The settings of the whole proxy: the `global` block (user, group, chroot, logs, admin
 * socket, workers, maxconn) and the `defaults` block (timeouts, dontlognull, error pages),
 * checked into the checker's state with the language's defaults for what is not given. */
#ifndef COMPILER_SETTINGS_H
#define COMPILER_SETTINGS_H

#include "ck.h"

/* The items of every `global` block: into ck->global, ck->user/group/chroot/admin and
 * ck->logs. */
void settings_global(struct ck *ck);

/* The items of every `defaults` block: into ck->timeouts, ck->dontlognull and ck->pages
 * (the pages given; the built-in ones are added by the layout). */
void settings_defaults(struct ck *ck);

#endif
