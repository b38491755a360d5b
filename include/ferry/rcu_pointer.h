/* SPDX-License-Identifier: MIT */
/* ferry/rcu_pointer.h: RCU-protected pointers checked by the compiler.
 *
 * The kernel marks RCU-protected pointers `__rcu`, and sparse then rejects
 * any access that does not go through rcu_dereference() and friends. Plain
 * C compilers have no such checker; this header gets the same effect from
 * the type system. FERRY_RCU_PTR(T) is a struct with one private member of
 * type T *, so every plain use of it is a type error:
 *
 *     struct config *c = gp;        error: a struct is not a pointer
 *     gp = fresh;                   error: a pointer is not that struct
 *     gp->field, *gp, gp + 1        error: not a pointer
 *     if (gp), gp == NULL           error: not a scalar
 *     use(gp)  (use takes T *)      error: wrong argument type
 *     ferry_rcu_dereference(gp)     error: the unchecked macros refuse it
 *
 * and the only ways in are the accessors below, each the checked
 * counterpart of a ferry/rcu.h macro (same ordering, same debug checks):
 *
 *     FERRY_RCU_PTR(struct config) gp;                  (or = FERRY_RCU_PTR_INIT(p))
 *     ferry_rcu_ptr_dereference(gp)                     reader, in a read-side section
 *     ferry_rcu_ptr_dereference_protected(gp, locked)   updater holding its lock
 *     ferry_rcu_ptr_access(gp)                          the value, not to dereference
 *     ferry_rcu_ptr_assign(gp, fresh)                   publish (release)
 *     ferry_rcu_ptr_init(gp, p)                         store before anyone reads gp
 *     ferry_rcu_ptr_xchg(gp, fresh)                     publish, return the old one
 *
 * Assigning a pointer of another type is an error too (C: with -Werror, as
 * ferry builds; C++: always). The member is named ferry__rcu_p: a name
 * reserved to ferry, the one deliberate escape.
 *
 * Cost: none. The struct has the pointer's size, alignment and
 * representation, and the accessors expand to the same loads and stores as
 * the unchecked macros on a plain pointer (tests/rcu_pointer/same_code.sh
 * compiles both and compares the machine code).
 *
 * Each use of FERRY_RCU_PTR(T) is a distinct (anonymous) struct type, so a
 * pointer that is passed around or declared in several places wants a
 * typedef:  typedef FERRY_RCU_PTR(struct config) config_rcu_ptr;
 * (C++ also needs it for function parameters.) Header works as C11 and
 * C++11.
 */
#ifndef FERRY_RCU_POINTER_H
#define FERRY_RCU_POINTER_H

#include <ferry/rcu.h>

/* An RCU-protected pointer to T (a type, not an expression). Zero-filled
 * memory holds NULL. */
#define FERRY_RCU_PTR(T) struct { T *ferry__rcu_p; }

/* Initializer: FERRY_RCU_PTR(T) p = FERRY_RCU_PTR_INIT(v); */
#define FERRY_RCU_PTR_INIT(v) { (v) }

/* Compile-time check that v may be stored in p (not evaluated). */
#define ferry__rcu_ptr_check(p, v) ((void)sizeof((p).ferry__rcu_p = (v)))

/* The pointer, for use inside a read-side section (ferry_rcu_dereference). */
#define ferry_rcu_ptr_dereference(p) ferry_rcu_dereference((p).ferry__rcu_p)

/* The pointer on the update side, where cond (evaluated in debug builds)
 * says why it cannot change (ferry_rcu_dereference_protected). */
#define ferry_rcu_ptr_dereference_protected(p, cond) \
    ferry_rcu_dereference_protected((p).ferry__rcu_p, cond)

/* The pointer's value, not to be dereferenced (ferry_rcu_access_pointer). */
#define ferry_rcu_ptr_access(p) ferry_rcu_access_pointer((p).ferry__rcu_p)

/* Publish v in p, a release store (ferry_rcu_assign_pointer). */
#define ferry_rcu_ptr_assign(p, v) \
    (ferry__rcu_ptr_check(p, v), ferry_rcu_assign_pointer((p).ferry__rcu_p, (v)))

/* Store v in p while no reader can see p yet (initialization): relaxed. */
#define ferry_rcu_ptr_init(p, v) \
    (ferry__rcu_ptr_check(p, v), __atomic_store_n(&(p).ferry__rcu_p, (v), __ATOMIC_RELAXED))

/* Publish v in p and return the old pointer (ferry_rcu_xchg_pointer). */
#define ferry_rcu_ptr_xchg(p, v) \
    (ferry__rcu_ptr_check(p, v), ferry_rcu_xchg_pointer(&(p).ferry__rcu_p, (v)))

#endif /* FERRY_RCU_POINTER_H */
