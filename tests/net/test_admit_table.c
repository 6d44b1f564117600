/*
 * The handshake table (net/core/admit.h) on its own: per-address counts
 * and the oldest-first order stay right through any mix of adds and
 * removals (its hash deletes by moving entries back, which is easy to get
 * subtly wrong), and addresses are keyed by IP alone.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/core/admit.h"

#define AT_MAX 256
#define AT_ADDRS 40

Test(admit_table, counts_and_order_match_a_model_through_random_adds_and_removals, .timeout = 30)
{
    hive__admit a;
    cr_assert_eq(hive__admit_init(&a, AT_MAX, 8, 12345), HIVE_OK);
    static hive__conn conns[AT_MAX];
    int addr_of[AT_MAX], model[AT_ADDRS] = { 0 };
    bool in[AT_MAX] = { false };
    uint8_t keys[AT_ADDRS][16];
    for (int i = 0; i < AT_ADDRS; i++) {
        char s[64];
        if (i % 2) snprintf(s, sizeof s, "tcp://10.0.%d.%d:%d", i / 7, i, 1000 + i);
        else snprintf(s, sizeof s, "tls://[2001:db8::%x]:%d", i, 2000 + i);
        hive__admit_key(s, keys[i]);
    }
    srand(7);
    uint32_t n = 0;
    for (int step = 0; step < 200000; step++) {
        int i = rand() % AT_MAX;
        if (!in[i] && n < AT_MAX) {
            int k = rand() % AT_ADDRS;
            memset(&conns[i], 0, sizeof conns[i]);
            memcpy(conns[i].hs_key, keys[k], 16);
            hive__admit_add(&a, &conns[i]);
            in[i] = true;
            addr_of[i] = k;
            model[k]++;
            n++;
        } else if (in[i]) {
            hive__admit_del(&a, &conns[i]);
            hive__admit_del(&a, &conns[i]);   /* a second removal is harmless */
            in[i] = false;
            model[addr_of[i]]--;
            n--;
        }
        if (step % 997 == 0)
            for (int k = 0; k < AT_ADDRS; k++)
                cr_assert_eq(hive__admit_count(&a, keys[k]), (uint32_t)model[k], "step %d addr %d", step, k);
    }
    cr_assert_eq(a.n, n);
    uint32_t walked = 0;
    for (hive__conn *c = a.head; c; c = c->hs_next) walked++;
    cr_assert_eq(walked, n);
    hive__admit_free(&a);
}

Test(admit_table, the_oldest_comes_first_and_leaves_first, .timeout = 10)
{
    hive__admit a;
    cr_assert_eq(hive__admit_init(&a, 4, 4, 1), HIVE_OK);
    hive__conn c[3];
    memset(c, 0, sizeof c);
    for (int i = 0; i < 3; i++) {
        hive__admit_key("tcp://127.0.0.2:1", c[i].hs_key);
        hive__admit_add(&a, &c[i]);
    }
    cr_expect_eq(a.head, &c[0]);
    hive__admit_del(&a, &c[0]);
    cr_expect_eq(a.head, &c[1]);
    hive__admit_del(&a, &c[2]);
    cr_expect_eq(a.tail, &c[1]);
    cr_expect_eq(hive__admit_count(&a, c[1].hs_key), 1);
    hive__admit_del(&a, &c[1]);
    cr_expect_null(a.head);
    cr_expect_eq(hive__admit_count(&a, c[1].hs_key), 0);
    hive__admit_free(&a);
}

Test(admit_table, an_address_is_its_ip_whatever_the_port_or_family, .timeout = 10)
{
    uint8_t a[16], b[16], m[16], v6[16], bad[16];
    hive__admit_key("tcp://127.0.0.2:5000", a);
    hive__admit_key("enet://127.0.0.2:6000", b);
    hive__admit_key("tcp://[::ffff:127.0.0.2]:7000", m);
    hive__admit_key("tls://[::1]:7000", v6);
    hive__admit_key("not an address", bad);
    cr_expect_eq(memcmp(a, b, 16), 0, "the port is not part of it");
    cr_expect_eq(memcmp(a, m, 16), 0, "IPv4 and IPv4-mapped IPv6 are one host");
    cr_expect_neq(memcmp(a, v6, 16), 0);
    uint8_t ones[16];
    memset(ones, 0xff, 16);
    cr_expect_eq(memcmp(bad, ones, 16), 0);
}
