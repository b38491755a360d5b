/* SPDX-License-Identifier: MIT */
/* The public headers' macros, expanded in a C++ program (unit.cxx.macros).
 *
 * A macro is compiled where it is used, so a C cast or NULL in it is
 * reported in the program's own code; the header check (ferry_cxx_headers)
 * only includes the headers. This program uses every initializer, poison
 * value, container_of and for_each macro (and the typed channel wrappers),
 * built with the warnings C++ programs build ferry's users with
 * (-Wold-style-cast, -Wzero-as-null-pointer-constant, ... and -Werror in
 * make test), and checks that each does what it does in C. */
#include <ferry/defer.h>
#include <ferry/hlist.h>
#include <ferry/list.h>
#include <ferry/llq.h>
#include <ferry/mutex.h>
#include <ferry/rcu.h>
#include <ferry/rcu_pointer.h>
#include <ferry/rcu_qsbr.h>
#include <ferry/rcuhash.h>
#include <ferry/rculist.h>
#include <ferry/seqlock.h>
#include <ferry/spsc.h>
#include <ferry/typed.h>
#include <ferry/waitlist.h>

#include <array>
#include <cstdio>
#include <utility>
#include <cstdlib>

FERRY_CHAN_TYPED(intq, int);
/* Item types whose spelling has a comma in it (T is the rest of the macro
 * arguments): they did not compile before. */
FERRY_CHAN_TYPED(arrq, std::array<int, 3>);
FERRY_CHAN_TYPED(pairq, std::pair<int, long>);

namespace {

int failures;

void check(bool ok, const char *what, int line)
{
    if (!ok) {
        std::fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, line, what);
        failures++;
    }
}
#define CHECK(cond) check((cond), #cond, __LINE__)

struct item {
    int key;
    ferry_list link;
    ferry_hlist_node hnode;
};

void test_list()
{
    ferry_list head = FERRY_LIST_INIT(head);
    item a[4];
    for (int i = 0; i < 4; i++) {
        a[i].key = i;
        ferry_list_add_tail(&head, &a[i].link);
    }
    int n = 0;
    ferry_list_for_each(p, &head)
        CHECK(ferry_list_entry(p, item, link)->key == n++);
    CHECK(n == 4);
    n = 0;
    ferry_list_for_each_entry(it, &head, item, link)
        CHECK(it == &a[n++]);
    CHECK(n == 4);
    const ferry_list *cl = &a[2].link;   /* a pointer to const, as C allows */
    CHECK(ferry_container_of(cl, item, link) == &a[2]);
    ferry_list_for_each_safe(p, &head)
        if (ferry_list_entry(p, item, link)->key % 2)
            ferry_list_del(p);
    CHECK(ferry_list_count(&head) == 2);
    CHECK(ferry_list_first(&head) == &a[0].link && ferry_list_last(&head) == &a[2].link);
#ifdef FERRY_DEBUG
    CHECK(a[1].link.next == FERRY_LIST_POISON_NEXT && a[1].link.prev == FERRY_LIST_POISON_PREV);
#endif
    ferry_list zero = {};   /* zero-filled: empty */
    n = 0;
    ferry_list_for_each_entry(it, &zero, item, link)
        n++;
    ferry_list_for_each(p, &zero)
        n++;
    CHECK(n == 0 && ferry_list_first(&zero) == nullptr);
}

void test_hlist()
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    CHECK(ferry_hlist_empty(&head));
    item a[4];
    for (int i = 0; i < 4; i++) {
        a[i].key = i;
        ferry_hlist_add_head(&head, &a[i].hnode);   /* head: 3 2 1 0 */
    }
    int n = 0;
    ferry_hlist_for_each(p, &head)
        CHECK(ferry_hlist_entry(p, item, hnode)->key == 3 - n++);
    CHECK(n == 4);
    n = 0;
    ferry_hlist_for_each_entry(it, &head, item, hnode)
        CHECK(it == &a[3 - n++]);
    CHECK(n == 4);
    CHECK(ferry_hlist_entry_safe(head.first, item, hnode) == &a[3]);
    CHECK(ferry_hlist_entry_safe(a[0].hnode.next, item, hnode) == nullptr);
    ferry_hlist_for_each_entry_safe(it, &head, item, hnode)
        if (it->key % 2)
            ferry_hlist_del(&it->hnode);
    CHECK(ferry_hlist_count(&head) == 2);
#ifdef FERRY_DEBUG
    CHECK(a[1].hnode.next == FERRY_HLIST_POISON_NEXT && a[1].hnode.pprev == FERRY_HLIST_POISON_PPREV);
#endif
    ferry_hlist_for_each_safe(p, &head)
        ferry_hlist_del_init(p);
    CHECK(ferry_hlist_empty(&head) && ferry_hlist_unhashed(&a[0].hnode));
}

struct waiter_box {
    ferry_waiter w;
    int woken;
};

void on_wake(ferry_waiter *w)
{
    ferry_container_of(w, waiter_box, w)->woken++;
}

void test_waitlist()
{
    ferry_waitlist wl = FERRY_WAITLIST_INIT;
    ferry_wakeset ws = FERRY_WAKESET_INIT;
    waiter_box b[3];
    for (waiter_box &x : b) {
        x.woken = 0;
        ferry_waiter_init(&x.w, on_wake);
        ferry_waitlist_link(&wl, &x.w);
    }
    CHECK(ferry_waitlist_len(&wl) == 3 && ferry_waitlist_name(&wl) == ferry_waitlist_name(nullptr));
    CHECK(ferry_waitlist_peek(&wl, FERRY_ROUND_ALL) == &b[0].w);
    CHECK(ferry_waitlist_take(&wl, FERRY_ROUND_ALL, &ws, 3) == 3);
    CHECK(ferry_wakeset_wake(&ws) == 3);
    for (waiter_box &x : b) {
        CHECK(x.woken == 1);
        ferry_waiter_fini(&x.w);
    }
    ferry_waitlist_fini(&wl);
}

void test_mutex_seqlock()
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    ferry_mutex_lock(&m);
    CHECK(ferry_mutex_is_locked(&m) && !ferry_mutex_trylock(&m));
    ferry_mutex_unlock(&m);
    CHECK(ferry_mutex_lock_until(&m, nullptr) == 0);
    ferry_mutex_unlock(&m);
    ferry_cond_fini(&c);
    ferry_mutex_fini(&m);

    ferry_seqlock sl = FERRY_SEQLOCK_INIT;
    long v = 0;
    long in[3] = {1, 2, 3}, data[3], out[3];
    ferry_seqlock_write_begin(&sl);
    ferry_seqlock_store(v, 5L);
    ferry_seqlock_write_copy(data, in, sizeof in);
    ferry_seqlock_write_end(&sl);
    uint32_t start = ferry_seqlock_read_begin(&sl);
    long seen = ferry_seqlock_load(v);
    ferry_seqlock_read_copy(out, data, sizeof out);
    CHECK(!ferry_seqlock_read_retry(&sl, start));
    CHECK(seen == 5 && out[0] == 1 && out[2] == 3);
}

struct defer_item {
    ferry_defer_node node;
    int freed;
};

void on_collect(ferry_defer_node *node)
{
    ferry_container_of(node, defer_item, node)->freed++;
}

void test_rt()
{
    ferry_defer d;
    CHECK(ferry_defer_init(&d) == 0);
    defer_item di = {};
    ferry_defer_push(&d, &di.node, on_collect);
    CHECK(ferry_defer_pending(&d));
    CHECK(ferry_defer_collect(&d) == 1 && di.freed == 1 && !ferry_defer_pending(&d));
    ferry_defer_fini(&d);

    ferry_spsc q;
    alignas(FERRY_CACHELINE) static unsigned char buf[4096];
    CHECK(ferry_spsc_buffer_size(sizeof(int), 4) <= sizeof buf);
    CHECK(ferry_spsc_init(&q, buf, sizeof(int), 4) == 0);
    int in[3] = {7, 8, 9}, out[3] = {};
    CHECK(ferry_spsc_push(&q, in, 3) == 3);
    CHECK(*static_cast<int *>(ferry_spsc_peek(&q)) == 7);
    CHECK(ferry_spsc_pop(&q, out, 3) == 3 && out[2] == 9);
    CHECK(ferry_spsc_peek(&q) == nullptr);

    ferry_llq lq;
    ferry_llq_init(&lq);
    ferry_llq_node nodes[2];
    ferry_llq_push(&lq, &nodes[0]);
    ferry_llq_push(&lq, &nodes[1]);
    CHECK(ferry_llq_pop(&lq) == &nodes[0]);
    CHECK(ferry_llq_pop(&lq) == &nodes[1]);
    CHECK(ferry_llq_pop(&lq) == nullptr);
}

struct entry {
    int key;
    ferry_list link;
    ferry_hlist_node hnode;
};

struct hentry {
    unsigned long key;
    ferry_lfht_node node;
};

int match_key(ferry_lfht_node *node, const void *key)
{
    return ferry_container_of(node, hentry, node)->key == *static_cast<const unsigned long *>(key);
}

void test_rcu()
{
    ferry_rcu_register_thread();
    ferry_list head = FERRY_LIST_INIT(head);
    ferry_hlist_head hhead = FERRY_HLIST_HEAD_INIT;
    entry e[3];
    for (int i = 0; i < 3; i++) {
        e[i].key = i;
        ferry_list_add_tail_rcu(&head, &e[i].link);
        ferry_hlist_add_head_rcu(&hhead, &e[i].hnode);
    }
    FERRY_RCU_PTR(entry) p = FERRY_RCU_PTR_INIT(&e[0]);
    entry *plain = &e[0];
    int n = 0, hn = 0, hnn = 0;
    ferry_rcu_read_lock();
    ferry_list_for_each_entry_rcu(it, &head, entry, link)
        CHECK(it == &e[n++]);
    ferry_hlist_for_each_entry_rcu(it, &hhead, entry, hnode)
        CHECK(it == &e[2 - hn++]);
    ferry_hlist_for_each_rcu(node, &hhead)
        hnn++;
    CHECK(ferry_rcu_ptr_dereference(p) == &e[0] && ferry_rcu_dereference(plain) == &e[0]);
    ferry_rcu_read_unlock();
    CHECK(n == 3 && hn == 3 && hnn == 3);

    ferry_rcu_ptr_assign(p, &e[1]);
    CHECK(ferry_rcu_ptr_access(p) == &e[1]);
    CHECK(ferry_rcu_ptr_xchg(p, &e[2]) == &e[1]);
    CHECK(ferry_rcu_ptr_dereference_protected(p, true) == &e[2]);
    ferry_rcu_ptr_init(p, nullptr);
    CHECK(ferry_rcu_ptr_access(p) == nullptr);
    ferry_rcu_assign_pointer(plain, &e[1]);
    CHECK(ferry_rcu_cmpxchg_pointer(&plain, &e[1], &e[2]) == &e[1] && plain == &e[2]);
    CHECK(ferry_rcu_xchg_pointer(&plain, &e[0]) == &e[2]);
    CHECK(ferry_rcu_dereference_protected(plain, true) == &e[0]);
    ferry_rcu_synchronize();

    ferry_lfht *ht = ferry_lfht_new(4, 4, 0, 0);
    CHECK(ht != nullptr);
    if (!ht) {
        ferry_rcu_unregister_thread();
        return;
    }
    hentry h[3] = {{1, {}}, {2, {}}, {2, {}}};   /* two with key 2 */
    ferry_rcu_read_lock();
    for (hentry &x : h)
        CHECK(ferry_lfht_add(ht, x.key, &x.node) == 0);
    ferry_lfht_iter iter;
    ferry_lfht_node *node;
    n = 0;
    ferry_lfht_for_each(ht, &iter, node)
        n++;
    CHECK(n == 3);
    hentry *pos;
    unsigned long sum = 0;
    ferry_lfht_for_each_entry(ht, &iter, pos, node)
        sum += pos->key;
    CHECK(sum == 5);
    unsigned long key = 2;
    n = 0;
    ferry_lfht_for_each_duplicate(ht, key, match_key, &key, &iter, node)
        n++;
    CHECK(n == 2);
    n = 0;
    ferry_lfht_for_each_entry_duplicate(ht, key, match_key, &key, &iter, pos, node)
        n += pos->key == 2;
    CHECK(n == 2);
    ferry_lfht_lookup(ht, 3, match_key, &key, &iter);
    CHECK(ferry_lfht_iter_get_node(&iter) == nullptr);
    ferry_lfht_for_each_entry(ht, &iter, pos, node)
        CHECK(ferry_lfht_del(ht, &pos->node) == 0);
    ferry_rcu_read_unlock();
    ferry_rcu_synchronize();
    CHECK(ferry_lfht_destroy(ht) == 0);
    ferry_rcu_unregister_thread();

    ferry_qsbr_register_thread();
    ferry_qsbr_read_lock();
    CHECK(ferry_qsbr_read_ongoing());
    ferry_qsbr_read_unlock();
    ferry_qsbr_quiescent_state();
    ferry_qsbr_thread_offline();
    ferry_qsbr_thread_online();
    ferry_qsbr_unregister_thread();
}

void test_typed()
{
    ferry_chan_config cfg = {};
    cfg.capacity = 4;
    intq_tx *tx = nullptr;
    intq_rx *rx = nullptr;
    CHECK(intq_open(&cfg, &tx, &rx) == 0);
    if (!tx || !rx)
        return;
    intq_tx *tx2 = intq_tx_clone(tx);
    intq_rx *rx2 = intq_rx_clone(rx);
    CHECK(tx2 == tx && rx2 == rx);   /* clones are the same handle, counted */
    int in[2] = {4, 5}, out[2] = {};
    CHECK(intq_send(tx, in, 2) == 2 && intq_try_recv(rx, out, 2) == 2 && out[1] == 5);
    ferry_select_case c;
    intq_select_send(&c, tx, in, 1, 0);
    CHECK(ferry_select(&c, 1) == 0 && c.result == 1);
    intq_select_recv(&c, rx, out, 2);
    CHECK(ferry_select(&c, 1) == 0 && c.result == 1 && out[0] == 4);
    intq_tx_release(tx2);
    intq_rx_release(rx2);
    intq_tx_close(tx);
    CHECK(intq_recv(rx, out, 1) == 0);   /* closed and drained */
    intq_tx_release(tx);
    intq_rx_release(rx);

    arrq_tx *atx = nullptr;
    arrq_rx *arx = nullptr;
    CHECK(arrq_open(&cfg, &atx, &arx) == 0);
    if (!atx || !arx)
        return;
    std::array<int, 3> a = {{1, 2, 3}}, b = {};
    CHECK(arrq_send(atx, &a, 1) == 1 && arrq_recv(arx, &b, 1) == 1 && b[2] == 3);
    arrq_tx_release(atx);
    arrq_rx_release(arx);
    pairq_tx *ptx = nullptr;
    pairq_rx *prx = nullptr;
    CHECK(pairq_open(&cfg, &ptx, &prx) == 0);
    if (!ptx || !prx)
        return;
    std::pair<int, long> p(7, 8L), q;
    CHECK(pairq_send(ptx, &p, 1) == 1 && pairq_recv(prx, &q, 1) == 1 && q.first == 7 && q.second == 8L);
    pairq_tx_release(ptx);
    pairq_rx_release(prx);
}

} // namespace

int main()
{
    test_list();
    test_hlist();
    test_waitlist();
    test_mutex_seqlock();
    test_rt();
    test_rcu();
    test_typed();
    if (failures) {
        std::fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    std::puts("every macro of the public headers expands in C++ and does what it does in C: ok");
    return 0;
}
