/* SPDX-License-Identifier: MIT */
/* ferry/rcu_pointer.h at run time: the checked accessors read and write the
 * pointer they wrap, with the unchecked macros' semantics and debug checks.
 * (What must not compile is tested by cmake/parts/rcu_pointer.cmake.) */
#include <ferry/rcu_pointer.h>
#include <ferry/rcu_qsbr.h>

#include <string.h>

#include "test.h"

struct config {
    int a;
};

typedef FERRY_RCU_PTR(struct config) config_ptr;

struct holder {
    int tag;
    config_ptr cfg;   /* a member, as in real structures */
};

FERRY_TEST(layout_is_a_pointer)
{
    CHECK_EQ(sizeof(config_ptr), sizeof(struct config *));
    CHECK_EQ(_Alignof(config_ptr), _Alignof(struct config *));
    struct holder h;
    memset(&h, 0, sizeof h);   /* zero-filled holds NULL */
    CHECK(ferry_rcu_ptr_access(h.cfg) == NULL);
}

FERRY_TEST(accessors_read_and_write_the_pointer)
{
    ferry_rcu_register_thread();
    struct config one = { 1 }, two = { 2 };
    config_ptr p = FERRY_RCU_PTR_INIT(&one);
    CHECK(ferry_rcu_ptr_access(p) == &one);
    ferry_rcu_read_lock();
    CHECK_EQ(ferry_rcu_ptr_dereference(p)->a, 1);
    ferry_rcu_read_unlock();
    ferry_rcu_ptr_assign(p, &two);
    CHECK(ferry_rcu_ptr_dereference_protected(p, true) == &two);
    CHECK(ferry_rcu_ptr_xchg(p, &one) == &two);
    CHECK(ferry_rcu_ptr_access(p) == &one);
    ferry_rcu_ptr_init(p, NULL);
    CHECK(ferry_rcu_ptr_access(p) == NULL);
    struct holder h = { 7, FERRY_RCU_PTR_INIT(&two) };
    ferry_rcu_read_lock();
    CHECK_EQ(ferry_rcu_ptr_dereference(h.cfg)->a, 2);
    ferry_rcu_read_unlock();
    ferry_rcu_unregister_thread();
}

FERRY_TEST(qsbr_reader_dereferences)
{
    ferry_qsbr_register_thread();
    struct config one = { 5 };
    config_ptr p = FERRY_RCU_PTR_INIT(NULL);
    ferry_rcu_ptr_assign(p, &one);
    ferry_qsbr_read_lock();
    CHECK_EQ(ferry_rcu_ptr_dereference(p)->a, 5);
    ferry_qsbr_read_unlock();
    ferry_qsbr_unregister_thread();
}

FERRY_DEBUG_DEATH_TEST(dereference_outside_read_section_aborts,
                       "ferry_rcu_dereference outside a read-side section")
{
    struct config one = { 1 };
    config_ptr p = FERRY_RCU_PTR_INIT(&one);
    CHECK_EQ(ferry_rcu_ptr_dereference(p)->a, 1);
}

FERRY_DEBUG_DEATH_TEST(protected_with_false_condition_aborts, "condition 'held' is false")
{
    struct config one = { 1 };
    config_ptr p = FERRY_RCU_PTR_INIT(&one);
    bool held = false;
    CHECK(ferry_rcu_ptr_dereference_protected(p, held) == &one);
}
