#ifndef HELLOTUNE_CNCURSES_SHIM_H
#define HELLOTUNE_CNCURSES_SHIM_H
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/curses.h>
// Swift does not import curses macros or treat its globals as concurrency-safe:
// each one the TUI needs is wrapped here.
static inline WINDOW *ht_stdscr(void) { return stdscr; }
static inline int ht_cols(void) { return COLS; }
static inline int ht_lines(void) { return LINES; }
static inline int ht_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int ht_a_bold(void) { return (int)A_BOLD; }
static inline int ht_a_underline(void) { return (int)A_UNDERLINE; }
static inline int ht_a_reverse(void) { return (int)A_REVERSE; }
static inline int ht_a_dim(void) { return (int)A_DIM; }
static inline int ht_key_resize(void) { return KEY_RESIZE; }
static inline int ht_colors(void) { return COLORS; }
static inline int ht_color_pairs(void) { return COLOR_PAIRS; }
static inline int ht_key_code_yes(void) { return KEY_CODE_YES; }
// Draws one cell: a spacing character and its combining marks (NUL-terminated), attributes, colour pair.
static inline int ht_put_cell(int y, int x, const wchar_t *wch, int attrs, int pair) {
    cchar_t c;
    if (setcchar(&c, wch, (attr_t)attrs, (short)pair, NULL) == ERR) return ERR;
    return mvadd_wch(y, x, &c);
}
#endif
