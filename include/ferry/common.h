/* SPDX-License-Identifier: MIT */
/* ferry/common.h: definitions shared by every ferry header.
 *
 * - A C compiler in C99 or older mode stops at a clear #error: the
 *   headers need C11 (C++11 in C++).
 * - FERRY_ATOMIC(T): an atomic object of type T, written so that a header
 *   compiles both as C11 (_Atomic(T)) and as C++ (std::atomic<T>, which has
 *   the same size and representation on the platforms ferry supports). In C++
 *   the C11 generic functions (atomic_load_explicit, ...) and memory_order_*
 *   names are brought into the global namespace, exactly as C++23's
 *   <stdatomic.h> does, so inline functions in ferry's headers read the same
 *   in both languages.
 * - FERRY_EXTERN_C_BEGIN / FERRY_EXTERN_C_END around every declaration of a
 *   public header: C linkage in C++, default (exported) visibility.
 * - ferry__die(fmt, ...): print file, line and message to stderr, then abort().
 *   Used for misuse that would corrupt memory (docs/design.md, "Errors").
 * - FERRY_LIKELY / FERRY_UNLIKELY, FERRY_CACHELINE.
 * - FERRY__SCAST, FERRY__RCAST, FERRY__QCAST, FERRY__NULLPTR,
 *   FERRY__ZERO_INIT: what the headers' inline functions and macros write
 *   for casts, NULL and { 0 }, so that C++ programs compile them without
 *   warnings (internal; see below).
 */
#ifndef FERRY_COMMON_H
#define FERRY_COMMON_H

/* The headers are C11 (_Atomic, _Static_assert, <stdatomic.h>) or C++11.
 * Compiled as C99 or older they would fail further down with errors that
 * name none of that; say it here, first (tests/build/c_standard.sh). */
#if !defined(__cplusplus) && (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L)
#error "ferry's headers need C11 or later: compile with -std=c11 or -std=gnu11 (or a newer standard), not C99 or older"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
/* C++ linkage for <atomic> (templates), also when a program includes a
 * ferry header inside its own extern "C" { } block. */
extern "C++" {
#include <atomic>
}
#define FERRY_ATOMIC(T) std::atomic<T>
using std::atomic_compare_exchange_strong_explicit;
using std::atomic_compare_exchange_weak_explicit;
using std::atomic_exchange_explicit;
using std::atomic_fetch_add_explicit;
using std::atomic_fetch_and_explicit;
using std::atomic_fetch_or_explicit;
using std::atomic_fetch_sub_explicit;
using std::atomic_load_explicit;
using std::atomic_signal_fence;
using std::atomic_store_explicit;
using std::atomic_thread_fence;
using std::memory_order_acq_rel;
using std::memory_order_acquire;
using std::memory_order_relaxed;
using std::memory_order_release;
using std::memory_order_seq_cst;
#define FERRY__EXTERN_C_OPEN extern "C" {
#define FERRY__EXTERN_C_CLOSE }
#else
#include <stdatomic.h>
#define FERRY_ATOMIC(T) _Atomic(T)
#define FERRY__EXTERN_C_OPEN
#define FERRY__EXTERN_C_CLOSE
#endif

/* Every public header wraps its declarations in FERRY_EXTERN_C_BEGIN / _END:
 * C linkage for C++, and default visibility. The library itself is compiled
 * with -fvisibility=hidden, so what a public header declares is exported from
 * libferry.so and nothing else is (docs/design.md, "ABI"). */
#define FERRY_EXTERN_C_BEGIN FERRY__EXTERN_C_OPEN _Pragma("GCC visibility push(default)")
#define FERRY_EXTERN_C_END _Pragma("GCC visibility pop") FERRY__EXTERN_C_CLOSE

/* Casts, null pointers and zero initializers in the public headers' inline
 * functions and macros. C++ programs include the headers with
 * -Wold-style-cast and -Wzero-as-null-pointer-constant, where a warning
 * breaks their -Werror build: clang++ reports a C cast or NULL in an inline
 * function of a header, and both clang++ and g++ report one in a macro,
 * which is compiled in the program's own code. In C each of these is
 * exactly the C cast, NULL or initializer it replaces (the C code compiles
 * as before); in C++ it is the named cast that does what the C cast did:
 * - FERRY__SCAST(T, x): (T)(x); static_cast<T>(x) in C++ (between
 *   arithmetic types, and between void * and object pointers);
 * - FERRY__RCAST(T, x): (T)(x); reinterpret_cast<T>(x) in C++ (between
 *   pointers and integers, e.g. uintptr_t);
 * - FERRY__QCAST(T, p): (T)(p), object pointer p to object pointer type T,
 *   dropping const and volatile as the C cast does (in C++ a static_cast to
 *   const volatile void *, a const_cast to void *, a static_cast to T):
 *   ferry_container_of takes a pointer to a const node, as in C;
 * - FERRY__NULLPTR: NULL; nullptr in C++;
 * - FERRY__ZERO_INIT: { 0 }; {} in C++, where a struct whose first member
 *   is atomic cannot be copy-initialized from 0 before C++17.
 * Internal: for the headers, not for programs. */
#ifdef __cplusplus
#define FERRY__SCAST(T, x) (static_cast<T>(x))
#define FERRY__RCAST(T, x) (reinterpret_cast<T>(x))
#define FERRY__QCAST(T, p) (static_cast<T>(const_cast<void *>(static_cast<const volatile void *>(p))))
#define FERRY__NULLPTR nullptr
#define FERRY__ZERO_INIT {}
#else
#define FERRY__SCAST(T, x) ((T)(x))
#define FERRY__RCAST(T, x) ((T)(x))
#define FERRY__QCAST(T, p) ((T)(p))
#define FERRY__NULLPTR NULL
#define FERRY__ZERO_INIT { 0 }
#endif

/* Branch hints: x (any scalar) is expected true / false. The value is
 * x != 0; x is evaluated once. */
#define FERRY_LIKELY(x) __builtin_expect(!!(x), 1)
#define FERRY_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The thread-local storage model of every ferry thread-local, including
 * the ones that the public headers' inline functions read (the RCU
 * readers): initial-exec. libferry.so then has all of them (about 200
 * bytes) in the static TLS block, so that no thread's first use of one
 * goes through __tls_get_addr, which may allocate -- in a real-time thread
 * too. A libferry.so loaded with dlopen() takes them from glibc's surplus
 * of static TLS (docs/rt.md, "Thread-locals"). */
#define FERRY__TLS_IE __attribute__((tls_model("initial-exec")))

/* Size of a cache line (and of the adjacent-line prefetch pair on x86, which
 * is what false sharing is really about). */
#define FERRY_CACHELINE 64

FERRY_EXTERN_C_BEGIN

/* Print "ferry: FILE:LINE: message" to stderr and abort(). Never returns. */
__attribute__((noreturn, cold, format(printf, 3, 4)))
void ferry__die_at(const char *file, int line, const char *fmt, ...);

#define ferry__die(...) ferry__die_at(__FILE__, __LINE__, __VA_ARGS__)

FERRY_EXTERN_C_END

#endif /* FERRY_COMMON_H */
