#include "check.h"

#include "expects.h"
#include "healthck.h"
#include "listeners.h"
#include "pools.h"
#include "settings.h"
#include "sites.h"

int
check_config(struct ck *ck)
{
    settings_global(ck);
    settings_defaults(ck);
    healthck_defaults(ck);
    pools_check(ck);
    sites_check(ck);
    listeners_check(ck);
    healthck_pools(ck);
    expects_check(ck);
    if (ck->diag->errors == 0) {
        sites_warn_shadowed(ck);
        pools_warn_unused(ck);
    }
    return ck->diag->errors > 0 ? -1 : 0;
}
