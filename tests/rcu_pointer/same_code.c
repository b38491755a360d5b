/* SPDX-License-Identifier: MIT */
/* The same reader and updater functions over a plain pointer with the
 * ferry/rcu.h macros (-DCHECKED=0) and over FERRY_RCU_PTR with the checked
 * accessors (-DCHECKED=1). same_code.sh compiles both and requires the
 * machine code to be identical: the checking costs nothing. */
#include <ferry/rcu_pointer.h>

struct config {
    int a, b;
};

#if CHECKED
static FERRY_RCU_PTR(struct config) gp;
#define DEREF(p) ferry_rcu_ptr_dereference(p)
#define PROTECTED(p, c) ferry_rcu_ptr_dereference_protected(p, c)
#define ACCESS(p) ferry_rcu_ptr_access(p)
#define ASSIGN(p, v) ferry_rcu_ptr_assign(p, v)
#define XCHG(p, v) ferry_rcu_ptr_xchg(p, v)
#else
static struct config *gp;
#define DEREF(p) ferry_rcu_dereference(p)
#define PROTECTED(p, c) ferry_rcu_dereference_protected(p, c)
#define ACCESS(p) ferry_rcu_access_pointer(p)
#define ASSIGN(p, v) ferry_rcu_assign_pointer(p, v)
#define XCHG(p, v) ferry_rcu_xchg_pointer(&(p), v)
#endif

int read_sum(void);
int read_sum(void)
{
    ferry_rcu_read_lock();
    struct config *c = DEREF(gp);
    int v = c ? c->a + c->b : -1;
    ferry_rcu_read_unlock();
    return v;
}

void publish(struct config *c);
void publish(struct config *c)
{
    ASSIGN(gp, c);
}

struct config *take(int locked);
struct config *take(int locked)
{
    return PROTECTED(gp, locked);
}

int is_set(void);
int is_set(void)
{
    return ACCESS(gp) != 0;
}

struct config *swap(struct config *c);
struct config *swap(struct config *c)
{
    return XCHG(gp, c);
}
