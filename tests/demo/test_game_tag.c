/* The tag rules: who is "it", touching, freezing, scoring, leaving. */
#include <criterion/criterion.h>
#include "demo/common/game.h"

static demo_world w;

static void place(uint32_t id, float x, float y)
{
    demo_player *p = demo_world_find(&w, id);
    cr_assert_not_null(p);
    p->x = x;
    p->y = y;
}

Test(tag, first_player_is_it_and_scores_nothing_alone, .timeout = 30)
{
    demo_world_init(&w, 60, 1);
    cr_assert_not_null(demo_world_add(&w, 5, "ada"));
    cr_expect_eq(w.it, 5);
    for (int i = 0; i < 120; i++) demo_world_tick(&w, NULL);
    cr_expect_eq(demo_world_find(&w, 5)->score_ticks, 0);
}

Test(tag, points_for_time_not_being_it, .timeout = 30)
{
    demo_world_init(&w, 60, 1);
    demo_world_add(&w, 1, "ada");
    demo_world_add(&w, 2, "bob");
    place(1, 50, 50);
    place(2, 700, 450);
    for (int i = 0; i < 180; i++) cr_assert_eq(demo_world_tick(&w, NULL), 0);
    cr_expect_eq(demo_score(&w, demo_world_find(&w, 2)), 3);
    cr_expect_eq(demo_score(&w, demo_world_find(&w, 1)), 0);
}

Test(tag, touching_passes_it_on_and_freezes_the_new_it, .timeout = 30)
{
    demo_world_init(&w, 60, 1);
    demo_world_add(&w, 1, "ada");
    demo_world_add(&w, 2, "bob");
    place(1, 300, 60);
    place(2, 300 + 2 * DEMO_RADIUS - 1, 60);
    demo_tag tag = { 0 };
    cr_expect_eq(demo_world_tick(&w, &tag), 1);
    cr_expect_eq(tag.tagger, 1);
    cr_expect_eq(tag.tagged, 2);
    cr_expect_eq(w.it, 2);
    demo_player *bob = demo_world_find(&w, 2);
    cr_expect_eq(bob->frozen_ticks, DEMO_FREEZE_MS * 60 / 1000);
    /* No tag-back while frozen, even though they still touch. */
    for (int i = 0; i < DEMO_FREEZE_MS * 60 / 1000 - 1; i++)
        cr_expect_eq(demo_world_tick(&w, &tag), 0, "tick %d", i);
    cr_expect_eq(demo_world_tick(&w, &tag), 1, "thawed: tags back");
    cr_expect_eq(tag.tagger, 2);
    cr_expect_eq(w.it, 1);
}

Test(tag, it_seconds_measures_the_chase, .timeout = 30)
{
    demo_world_init(&w, 60, 1);
    demo_world_add(&w, 1, "ada");
    demo_world_add(&w, 2, "bob");
    place(1, 100, 60);
    place(2, 100 + 4 * DEMO_RADIUS, 60);
    for (int i = 0; i < 90; i++) cr_assert_eq(demo_world_tick(&w, NULL), 0);
    place(2, 100 + DEMO_RADIUS, 60);
    demo_tag tag;
    cr_assert_eq(demo_world_tick(&w, &tag), 1);
    cr_expect_float_eq(tag.it_seconds, 91.0 / 60, 1e-9);
}

Test(tag, frozen_players_do_not_move_but_inputs_are_acknowledged, .timeout = 30)
{
    demo_world_init(&w, 60, 1);
    demo_world_add(&w, 1, "ada");
    demo_player *p = demo_world_find(&w, 1);
    place(1, 300, 60);
    p->frozen_ticks = 10;
    cr_expect_eq(demo_world_input(&w, 1, 1, DEMO_RIGHT), 1);
    demo_world_tick(&w, NULL);
    cr_expect_float_eq(p->x, 300, 1e-6);
    cr_expect_eq(p->ack, 1);
}

Test(tag, leaving_it_hands_it_to_the_lowest_score, .timeout = 30)
{
    demo_world_init(&w, 60, 1);
    demo_world_add(&w, 1, "ada");
    demo_world_add(&w, 2, "bob");
    demo_world_add(&w, 3, "cy");
    demo_world_find(&w, 2)->score_ticks = 500;
    demo_world_find(&w, 3)->score_ticks = 100;
    cr_expect_eq(demo_world_remove(&w, 1), 3);
    cr_expect_eq(w.it, 3);
    cr_expect_eq(demo_world_count(&w), 2);
    cr_expect_eq(demo_world_remove(&w, 2), 3, "someone else leaving changes nothing");
    cr_expect_eq(demo_world_remove(&w, 3), 0);
    cr_expect_eq(demo_world_remove(&w, 3), -1);
    cr_expect_eq(w.it, 0);
}

Test(tag, join_rules, .timeout = 30)
{
    demo_world_init(&w, 60, 1);
    cr_expect_null(demo_world_add(&w, 0, "zero"));
    cr_expect_not_null(demo_world_add(&w, 1, "ada"));
    cr_expect_null(demo_world_add(&w, 1, "again"), "one player per id");
    for (uint32_t i = 2; i <= DEMO_MAX_PLAYERS; i++) cr_expect_not_null(demo_world_add(&w, i, "x"));
    cr_expect_null(demo_world_add(&w, 99, "full"));
    /* Everyone spawned inside the arena and outside the pillars. */
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        float x = w.p[i].x, y = w.p[i].y;
        float x2 = x, y2 = y;
        demo_move(&x2, &y2, 0, 0, 0);
        cr_expect(x == x2 && y == y2, "player %d spawned inside something", i);
    }
}

Test(tag, names_are_cleaned, .timeout = 30)
{
    demo_world_init(&w, 60, 1);
    demo_player *p = demo_world_add(&w, 1, "  bad\x1b[31mname\x01  ");
    cr_assert_not_null(p);
    cr_expect_str_eq(p->name, "bad[31mname");
    p = demo_world_add(&w, 2, "");
    cr_expect_str_eq(p->name, "player2");
    p = demo_world_add(&w, 3, "a-very-long-name-that-does-not-fit-at-all");
    cr_expect_eq(strlen(p->name), DEMO_NAME_MAX - 1);
}

Test(tag, inputs_are_ordered_and_rate_limited, .timeout = 30)
{
    demo_world_init(&w, 60, 1);
    demo_world_add(&w, 1, "ada");
    place(1, 100, 250);
    demo_player *p = demo_world_find(&w, 1);
    cr_expect_eq(demo_world_input(&w, 1, 5, DEMO_RIGHT), 1);
    cr_expect_eq(demo_world_input(&w, 1, 5, DEMO_RIGHT), 0, "duplicate");
    cr_expect_eq(demo_world_input(&w, 1, 4, DEMO_RIGHT), 0, "stale");
    cr_expect_eq(demo_world_input(&w, 9, 6, DEMO_RIGHT), -1);
    /* A flood of inputs: the player still moves at most one step a tick
     * (plus a small burst allowance). */
    for (uint32_t s = 6; s < 6 + 100; s++) demo_world_input(&w, 1, s, DEMO_RIGHT | 0xf0);
    cr_expect_eq(p->nqueue, DEMO_INPUT_QUEUE);
    float x0 = p->x;
    for (int i = 0; i < 10; i++) demo_world_tick(&w, NULL);
    float step = DEMO_IT_SPEED / 60.0f;
    cr_expect_leq(p->x - x0, 12 * step + 1e-3, "moved %f", p->x - x0);
    cr_expect_eq(p->ack, 105);
}

Test(tag, clean_text_drops_invalid_utf8_and_controls, .timeout = 30)
{
    char out[32];
    cr_expect_eq(demo_clean_text(out, sizeof out, "h\xc3\xa9llo", 6), 6);
    cr_expect_str_eq(out, "h\xc3\xa9llo");
    demo_clean_text(out, sizeof out, "a\xc0\xaf" "b\xed\xa0\x80" "c\xff", 9);
    cr_expect_str_eq(out, "abc", "overlong, surrogate, bad byte");
    demo_clean_text(out, sizeof out, "x\xc2\x85y", 4);
    cr_expect_str_eq(out, "xy", "C1 control");
    demo_clean_text(out, sizeof out, "one\ttwo\nthree", 13);
    cr_expect_str_eq(out, "one two three");
    demo_clean_text(out, 4, "\xe2\x82\xac\xe2\x82\xac", 6);
    cr_expect_str_eq(out, "\xe2\x82\xac", "a cut never splits a character");
    demo_clean_text(out, sizeof out, "ab\0cd", 5);
    cr_expect_str_eq(out, "ab");
}

Test(tag, an_idle_it_hands_it_to_the_nearest, .timeout = 30)
{
    demo_world_init(&w, 60, 1);
    demo_world_add(&w, 1, "afk");
    demo_world_add(&w, 2, "near");
    demo_world_add(&w, 3, "far");
    place(1, 100, 60);
    place(2, 300, 60);
    place(3, 700, 450);
    int idle_ticks = DEMO_IDLE_MS * 60 / 1000;
    demo_tag tag = { 0 };
    for (int i = 0; i < idle_ticks - 1; i++) cr_assert_eq(demo_world_tick(&w, &tag), 0, "tick %d", i);
    cr_assert_eq(demo_world_tick(&w, &tag), 1);
    cr_expect(tag.idle);
    cr_expect_eq(tag.tagger, 1);
    cr_expect_eq(tag.tagged, 2);
    cr_expect_eq(w.it, 2);
}

Test(tag, moving_keeps_it, .timeout = 30)
{
    demo_world_init(&w, 60, 1);
    demo_world_add(&w, 1, "busy");
    demo_world_add(&w, 2, "other");
    place(1, 100, 250);
    place(2, 700, 450);
    int idle_ticks = DEMO_IDLE_MS * 60 / 1000;
    demo_tag tag = { 0 };
    for (int i = 0; i < 2 * idle_ticks; i++) {
        /* Back and forth, far from anyone. */
        demo_world_input(&w, 1, (uint32_t)i + 1, (i / 30) % 2 ? DEMO_LEFT : DEMO_RIGHT);
        cr_assert_eq(demo_world_tick(&w, &tag), 0, "tick %d", i);
    }
    cr_expect_eq(w.it, 1);
}

Test(tag, alone_nobody_is_idle, .timeout = 30)
{
    demo_world_init(&w, 60, 1);
    demo_world_add(&w, 1, "alone");
    for (int i = 0; i < DEMO_IDLE_MS * 60 / 1000 * 2; i++) demo_world_tick(&w, NULL);
    /* The second player arrives: the clock starts only now. */
    demo_world_add(&w, 2, "guest");
    place(1, 100, 60);
    place(2, 700, 450);
    cr_expect_eq(demo_world_tick(&w, NULL), 0);
    cr_expect_eq(w.it, 1);
}
