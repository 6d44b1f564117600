/* Client-side prediction agrees with the server's simulation. */
#include <criterion/criterion.h>
#include "demo/common/predict.h"
#include "demo/common/snapshot.h"

Test(predict, matches_the_server_when_every_input_arrives, .timeout = 30)
{
    demo_world w;
    demo_world_init(&w, 60, 3);
    demo_world_add(&w, 1, "ada");
    demo_world_add(&w, 2, "bob");   /* so ada is "it" and bob is not */
    demo_player *bob = demo_world_find(&w, 2);
    bob->x = 400; bob->y = 60;
    demo_world_find(&w, 1)->x = 700;
    demo_world_find(&w, 1)->y = 450;

    demo_predict pr;
    demo_predict_init(&pr, 60);
    demo_predict_reconcile(&pr, bob->x, bob->y, 0, false, 0);
    uint8_t pattern[] = { DEMO_RIGHT, DEMO_RIGHT | DEMO_DOWN, DEMO_DOWN, DEMO_LEFT, 0, DEMO_UP | DEMO_LEFT };
    /* The server lags two inputs behind, as over a network. */
    uint32_t seqs[200];
    for (int i = 0; i < 200; i++) {
        uint8_t bits = pattern[(i / 10) % 6];
        seqs[i] = demo_predict_input(&pr, bits);
        demo_world_input(&w, 2, seqs[i], bits);
        if (i >= 2) {
            demo_world_tick(&w, NULL);
            demo_snapshot s;
            demo_snapshot_take(&w, (uint32_t)i, &s);
            const demo_snap_player *me = demo_snapshot_find(&s, 2);
            demo_predict_reconcile(&pr, me->x, me->y, me->ack, s.it == 2, me->frozen);
        }
    }
    cr_expect_eq(pr.corrections, 0, "prediction never disagreed");
    cr_expect_float_eq(pr.ox, 0, 1e-6);
    cr_expect_eq(pr.n, (int)(200 - bob->ack), "the inputs still in flight are kept");
    cr_expect_leq(pr.n, 2);
}

Test(predict, a_surprise_is_smoothed_not_snapped, .timeout = 30)
{
    demo_predict pr;
    demo_predict_init(&pr, 60);
    demo_predict_reconcile(&pr, 100, 100, 0, false, 0);
    for (int i = 0; i < 5; i++) demo_predict_input(&pr, DEMO_RIGHT);
    float shown = pr.x + pr.ox;
    /* The server says: you were frozen, you never moved. */
    demo_predict_reconcile(&pr, 100, 100, 5, false, 30);
    cr_expect_float_eq(pr.x, 100, 1e-4);
    cr_expect_float_eq(pr.x + pr.ox, shown, 1e-3, "the picture does not jump");
    cr_expect_eq(pr.corrections, 1);
    for (int i = 0; i < 30; i++) demo_predict_smooth(&pr, 1.0 / 60);
    cr_expect_float_eq(pr.ox, 0, 0.05);
    /* Still frozen: new inputs do not move us. */
    demo_predict_input(&pr, DEMO_RIGHT);
    cr_expect_float_eq(pr.x, 100, 1e-4);
}

Test(predict, history_is_bounded, .timeout = 30)
{
    demo_predict pr;
    demo_predict_init(&pr, 60);
    for (int i = 0; i < 1000; i++) demo_predict_input(&pr, DEMO_LEFT);
    cr_expect_eq(pr.n, DEMO_PREDICT_KEEP);
    cr_expect_eq(pr.next_seq, 1000);
    cr_expect_eq(pr.have, false, "no position before the first snapshot");
}
