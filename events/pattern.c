/* pattern.c - event name syntax and wildcard matching (rules in bus.h). */
#include "bus_internal.h"

#include <string.h>

#define MAX_SEGS (HIVE_NAME_MAX / 2 + 1)

/* [A-Za-z0-9_-/+@#$]: a table so the check is one load per byte. */
static const unsigned char seg_char[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
    ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
    ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
    ['_'] = 1, ['-'] = 1, ['/'] = 1, ['+'] = 1, ['@'] = 1, ['#'] = 1, ['$'] = 1,
};

static bool is_sep(char c) { return c == ':' || c == '.'; }

int hive__name_valid_n(const char *s, size_t n)
{
    if (!s || n == 0 || n >= HIVE_NAME_MAX) return 0;
    bool empty_seg = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_sep((char)c)) {
            if (empty_seg) return 0;
            empty_seg = true;
        } else if (seg_char[c]) {
            empty_seg = false;
        } else {
            return 0;   /* includes an embedded NUL */
        }
    }
    return !empty_seg;  /* "" or a trailing separator */
}

int hive__name_check(const char *s, size_t *len)
{
    size_t n = strnlen(s, HIVE_NAME_MAX);
    if (!hive__name_valid_n(s, n)) return HIVE_ENAME;
    if (len) *len = n;
    return HIVE_OK;
}

int hive__pattern_check(const char *p, bool *wild)
{
    if (!strchr(p, '*')) {
        *wild = false;
        return hive__name_check(p, NULL);
    }
    *wild = true;
    size_t i = 0, seg_len = 0, stars = 0;
    for (;; i++) {
        char c = p[i];
        if (c == '\0' || is_sep(c)) {
            if (seg_len == 0) return HIVE_EPATTERN;
            /* A star must be the whole segment: `*` or `**`. */
            if (stars && (stars != seg_len || stars > 2)) return HIVE_EPATTERN;
            if (c == '\0') break;
            seg_len = stars = 0;
            continue;
        }
        if (i == HIVE_NAME_MAX - 1) return HIVE_EPATTERN;
        if (c == '*') stars++;
        else if (!seg_char[(unsigned char)c]) return HIVE_EPATTERN;
        seg_len++;
    }
    return HIVE_OK;
}

/* A segment and the separator before it (0 for the first). */
typedef struct seg {
    const char *s;
    uint8_t len;
    char sep;
} seg;

static int split(const char *s, seg *out)
{
    int n = 0;
    char sep = 0;
    const char *start = s;
    for (;; s++) {
        if (*s == '\0' || is_sep(*s)) {
            if (n == MAX_SEGS) return -1; /* cannot happen for checked input */
            out[n++] = (seg){ start, (uint8_t)(s - start), sep };
            if (*s == '\0') return n;
            sep = *s;
            start = s + 1;
        }
    }
}

typedef struct matcher {
    seg p[MAX_SEGS], n[MAX_SEGS];
    int np, nn;
    /* 0 unknown, 1 no, 2 yes: memoised so `**` never goes exponential. */
    unsigned char memo[(MAX_SEGS + 1) * (MAX_SEGS + 1)];
} matcher;

static bool is_star(const seg *g) { return g->len == 1 && g->s[0] == '*'; }
static bool is_dstar(const seg *g) { return g->len == 2 && g->s[0] == '*' && g->s[1] == '*'; }

/* Does pattern[i..] match name[j..]? The separator before each pattern
 * segment must equal the one before the name segment it starts on. */
static bool match_at(matcher *m, int i, int j)
{
    if (i == m->np) return j == m->nn;
    if (j == m->nn) return false;
    if (m->p[i].sep != m->n[j].sep) return false;
    unsigned char *memo = &m->memo[i * (m->nn + 1) + j];
    if (*memo) return *memo == 2;
    bool ok = false;
    const seg *ps = &m->p[i];
    if (is_dstar(ps)) {
        /* One or more segments: j..k, separators inside included. */
        for (int k = j; k < m->nn && !ok; k++)
            ok = match_at(m, i + 1, k + 1);
    } else if (is_star(ps)) {
        ok = match_at(m, i + 1, j + 1);
    } else {
        const seg *ns = &m->n[j];
        ok = ps->len == ns->len && memcmp(ps->s, ns->s, ps->len) == 0 &&
             match_at(m, i + 1, j + 1);
    }
    *memo = ok ? 2 : 1;
    return ok;
}

bool hive__pattern_match(const char *pattern, const char *name)
{
    matcher m;
    m.np = split(pattern, m.p);
    m.nn = split(name, m.n);
    if (m.np < 0 || m.nn < 0) return false;
    /* Without `**` a match is segment by segment: no memo needed. */
    bool dstar = false;
    for (int i = 0; i < m.np; i++) dstar |= is_dstar(&m.p[i]);
    if (!dstar) {
        if (m.np != m.nn) return false;
        for (int i = 0; i < m.np; i++) {
            if (m.p[i].sep != m.n[i].sep) return false;
            if (is_star(&m.p[i])) continue;
            if (m.p[i].len != m.n[i].len || memcmp(m.p[i].s, m.n[i].s, m.p[i].len)) return false;
        }
        return true;
    }
    memset(m.memo, 0, (size_t)(m.np + 1) * (size_t)(m.nn + 1));
    return match_at(&m, 0, 0);
}
