/* assay's C and C++ unit-test support, shipped into the sandbox as assay_unit.h.
 *
 * The harness (assay/harness/unit/c_family.py) writes one translation unit holding the
 * solution, then the tests, then the tables below; the runner (c_unit_runner.c) defines
 * main and runs the tests. The tests' `assert` is redefined as ASSAY_ASSERT after the
 * solution and after every #include of the test file, so that <assert.h> cannot bring the
 * aborting one back. A failed ASSAY_ASSERT ends a test function (FAIL), or in a test main
 * (HumanEval-X style) marks its line FAIL and lets the program go on to the next assert.
 */
#ifndef ASSAY_UNIT_H
#define ASSAY_UNIT_H

struct assay_test {
    const char *name;
    void (*run)(void);
};

/* 0 when the assert at this line must not be evaluated (it crashed or hung before). */
int assay_assert_begin(const char *file, int line);
void assay_assert_end(const char *file, int line, int ok, const char *text, const char *func);
/* What the tests' main returned (a test main that returns non-zero did not pass). */
void assay_main_returned(int status);

/* Written by the harness after the tests. */
extern const char *const assay_fatal;        /* non-null: nothing can run, and why */
extern const int assay_style;                /* 1: one test per entry; 2: one per assert */
extern const struct assay_test assay_tests[];
extern const int assay_test_count;
extern const int assay_site_lines[];         /* style 2: the assert lines, ascending */
extern const int assay_site_count;
extern const char *const assay_tests_file;   /* the __FILE__ of the tests */

/* Variadic, so that template arguments with commas need no extra parentheses. */
#define ASSAY_ASSERT(...)                                                                 \
    (assay_assert_begin(__FILE__, __LINE__)                                               \
         ? assay_assert_end(__FILE__, __LINE__, !!(__VA_ARGS__), #__VA_ARGS__, __func__)  \
         : (void)0)

#endif
