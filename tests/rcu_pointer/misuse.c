/* SPDX-License-Identifier: MIT */
/* Compile-fail cases for ferry/rcu_pointer.h, compiled as C11 and as C++11
 * by cmake/parts/rcu_pointer.cmake: with -DCASE_<name> exactly one
 * forbidden access is compiled, and the test passes only if the compiler
 * rejects it on the line marked FORBIDDEN_<name>. With -DCASE_allowed every
 * allowed form is compiled, and that must succeed. */
#include <ferry/rcu_pointer.h>

#include <stddef.h>

struct config {
    int a;
};

typedef FERRY_RCU_PTR(struct config) config_ptr;

static config_ptr gp;
static struct config *plain;

static int use(struct config *c)
{
    return c ? c->a : 0;
}

int misuse(struct config *fresh);
int misuse(struct config *fresh)
{
    int r = use(plain);
#if defined(CASE_plain_read)
    struct config *c = gp; /* FORBIDDEN_plain_read */
    r += use(c);
#elif defined(CASE_plain_write)
    gp = fresh; /* FORBIDDEN_plain_write */
#elif defined(CASE_arithmetic)
    r += (gp + 1) != NULL; /* FORBIDDEN_arithmetic */
#elif defined(CASE_pass_to_function)
    r += use(gp); /* FORBIDDEN_pass_to_function */
#elif defined(CASE_member_access)
    r += gp->a; /* FORBIDDEN_member_access */
#elif defined(CASE_indirection)
    r += (*gp).a; /* FORBIDDEN_indirection */
#elif defined(CASE_compare_null)
    r += gp == NULL; /* FORBIDDEN_compare_null */
#elif defined(CASE_truth_value)
    if (gp) /* FORBIDDEN_truth_value */
        r++;
#elif defined(CASE_cast_to_pointer)
    r += use((struct config *)gp); /* FORBIDDEN_cast_to_pointer */
#elif defined(CASE_unchecked_dereference)
    r += use(ferry_rcu_dereference(gp)); /* FORBIDDEN_unchecked_dereference */
#elif defined(CASE_unchecked_assign)
    ferry_rcu_assign_pointer(gp, fresh); /* FORBIDDEN_unchecked_assign */
#elif defined(CASE_checked_on_plain)
    r += use(ferry_rcu_ptr_dereference(plain)); /* FORBIDDEN_checked_on_plain */
#elif defined(CASE_assign_wrong_type)
    int other = 0;
    ferry_rcu_ptr_assign(gp, &other); /* FORBIDDEN_assign_wrong_type */
#elif defined(CASE_allowed)
    ferry_rcu_ptr_init(gp, fresh);
    ferry_rcu_read_lock();
    r += use(ferry_rcu_ptr_dereference(gp));
    ferry_rcu_read_unlock();
    r += use(ferry_rcu_ptr_dereference_protected(gp, fresh != NULL));
    r += ferry_rcu_ptr_access(gp) != NULL;
    ferry_rcu_ptr_assign(gp, fresh);
    ferry_rcu_ptr_assign(gp, NULL);
    struct config *old = ferry_rcu_ptr_xchg(gp, fresh);
    r += use(old);
    config_ptr local = FERRY_RCU_PTR_INIT(fresh);
    r += ferry_rcu_ptr_access(local) == fresh;
#else
#error "define one CASE_..."
#endif
    (void)fresh;
    return r;
}
