/* assay's C and C++ unit-test runner: shipped as assay_runner.c (or .cpp, compiled by g++:
 * the code keeps to what both languages accept) and linked with the translation unit the
 * harness generates from the solution and its tests (see c_unit.h).
 *
 * Test functions (style 1) run each in a forked child with its own time limit. A test main
 * (style 2, HumanEval-X) runs in a forked child whose asserts record their outcome per line
 * in memory shared with this parent; a crash or a hang inside an assert makes that line
 * ERROR or TIMEOUT and the main is run again with that assert skipped, so every line gets
 * its own outcome. Only the parent writes the report (JSON lines on ASSAY_REPORT_FD); the
 * children lose that fd before any test code runs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __cplusplus
#include <cxxabi.h>
#include <exception>
#include <typeinfo>
#endif
#include "assay_unit.h"

#define MESSAGE_LIMIT 2000
#define SITE_MESSAGE 700
#define STDERR_TAIL 400
#define MAX_DEPTH 32
#define PROGRESS_POLL_S 0.05

enum { NONE = 0, PASS, FAIL, ERROR, TIMEOUT };
static const char *const STATUS_NAMES[] = {"", "PASS", "FAIL", "ERROR", "TIMEOUT"};
/* How a child ended, as it says itself before _exit (nothing said: a crash or an exit()). */
enum { RUNNING = 0, RETURNED, FAILED, EXCEPTION };

struct site { /* one assert line of a test main */
    int line;
    int status;
    int round;    /* the run that decided it; later runs never change it */
    int poisoned; /* it crashed or hung: later runs skip it */
    long evaluations, failures;
    double seconds;
    char message[SITE_MESSAGE];
};

struct shared { /* mapped MAP_SHARED: the child writes, the parent reads after it ends */
    volatile long progress; /* asserts completed; each one restarts the time limit */
    volatile int depth;     /* asserts being evaluated (nested through helpers) */
    int stack[MAX_DEPTH];   /* their sites, innermost last; -1 outside the test file */
    double started[MAX_DEPTH];
    volatile int ended;
    int round;
    int main_status;
    int status;
    char message[MESSAGE_LIMIT + 1];
    int last_site;
    char pending[SITE_MESSAGE]; /* an assert outside the test file failed */
    struct site *sites;
};

static struct shared *state;
static int in_child;
static int report_fd = -1;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void copy_text(char *out, size_t cap, const char *text) {
    size_t n = strlen(text);
    if (n >= cap) n = cap - 1;
    memcpy(out, text, n);
    out[n] = '\0';
}

/* ---- child side: what the tests' asserts call ---------------------------------------- */

static int site_for(const char *file, int line) {
    int lo = 0, hi = assay_site_count - 1, found = 0;
    if (assay_site_count == 0 || strcmp(file, assay_tests_file) != 0) return -1;
    /* The last site at or before the line: a wrapper macro's assert reports its own line. */
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (assay_site_lines[mid] <= line) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}

int assay_assert_begin(const char *file, int line) {
    int site, depth;
    if (!in_child || assay_style != 2) return 1;
    site = site_for(file, line);
    if (site >= 0 && state->sites[site].poisoned) return 0;
    depth = state->depth;
    if (depth < MAX_DEPTH) {
        state->stack[depth] = site;
        state->started[depth] = now();
    }
    state->depth = depth + 1;
    return 1;
}

static void finish_child(int ended) {
    state->ended = ended;
    _exit(0);
}

static void record_site(int site, int ok, const char *message, double took) {
    struct site *s = &state->sites[site];
    const char *why = ok ? state->pending : message;
    state->last_site = site;
    if (s->round != 0 && s->round < state->round) return; /* decided by an earlier run */
    s->round = state->round;
    s->evaluations++;
    s->seconds += took;
    if (!ok || why[0]) {
        s->failures++;
        if (s->status != FAIL) copy_text(s->message, sizeof s->message, why);
        s->status = FAIL;
        state->pending[0] = '\0';
    } else if (s->status == NONE) {
        s->status = PASS;
    }
}

/* What glibc's assert prints; made only for a failure, asserts in loops stay cheap. */
static void describe_failure(char *out, size_t cap, const char *file, int line,
                             const char *text, const char *func) {
    if (strcmp(func, "assay_tests_main") == 0) func = "main";
    snprintf(out, cap, "%s:%d: %s: Assertion `%s' failed.", file, line, func, text);
}

void assay_assert_end(const char *file, int line, int ok, const char *text, const char *func) {
    char message[SITE_MESSAGE];
    int depth, site;
    double took = 0;
    message[0] = '\0';
    if (!ok) describe_failure(message, sizeof message, file, line, text, func);
    if (!in_child) { /* a static initializer, before any test: nothing to attribute it to */
        if (ok) return;
        fprintf(stderr, "%s\n", message);
        abort();
    }
    if (assay_style != 2) {
        if (ok) return;
        state->status = FAIL;
        describe_failure(state->message, sizeof state->message, file, line, text, func);
        finish_child(FAILED);
    }
    depth = state->depth - 1;
    if (depth < 0) depth = 0;
    state->depth = depth;
    if (depth < MAX_DEPTH) {
        site = state->stack[depth];
        took = now() - state->started[depth];
    } else {
        site = site_for(file, line);
    }
    state->progress++;
    if (site >= 0) {
        record_site(site, ok, message, took);
    } else if (!ok && !state->pending[0]) {
        snprintf(state->pending, sizeof state->pending, "an assert outside the tests failed: %s",
                 message);
    }
}

void assay_main_returned(int status) {
    if (in_child) state->main_status = status;
}

#ifdef __cplusplus
static void describe_exception(const char *mangled, const char *what) {
    int failed = 0;
    char *name = abi::__cxa_demangle(mangled, 0, 0, &failed);
    snprintf(state->message, sizeof state->message, "uncaught exception %s%s%s",
             name && !failed ? name : mangled, what ? ": " : "", what ? what : "");
    free(name);
}
#endif

static void invoke(const struct assay_test *test) {
#ifdef __cplusplus
    try {
        test->run();
    } catch (const std::exception &exc) {
        describe_exception(typeid(exc).name(), exc.what());
        finish_child(EXCEPTION);
    } catch (...) {
        const std::type_info *type = abi::__cxa_current_exception_type();
        describe_exception(type ? type->name() : "of unknown type", 0);
        finish_child(EXCEPTION);
    }
#else
    test->run();
#endif
}

static void child_main(const struct assay_test *test, int devnull, int err_fd,
                       const char *dir) {
    int sig;
    in_child = 1;
    setpgid(0, 0);
    for (sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    if (chdir(dir) != 0) _exit(125);
    /* stdout goes nowhere (a test that prints forever then times out instead of filling the
       run's output); stderr is kept for the message of a crash. */
    dup2(devnull, 1);
    dup2(err_fd, 2);
    invoke(test);
    fflush(NULL);
    finish_child(RETURNED);
}

/* ---- parent side: the report --------------------------------------------------------- */

struct text {
    char *data;
    size_t len, cap;
};

static void add(struct text *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->data = (char *)realloc(t->data, t->cap);
        if (!t->data) abort();
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void add_str(struct text *t, const char *s) { add(t, s, strlen(s)); }

static size_t utf8_length(const unsigned char *s, size_t left) {
    size_t n, i;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef) n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) n = 4;
    else return 0;
    if (n > left) return 0;
    for (i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return n;
}

/* A JSON string of at most MESSAGE_LIMIT bytes; bytes that are not UTF-8 become '?'. */
static void add_json(struct text *t, const char *text) {
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), i = 0, kept = 0;
    char escape[8];
    add_str(t, "\"");
    while (i < len && kept < MESSAGE_LIMIT) {
        unsigned char c = s[i];
        size_t n;
        if (c == '"' || c == '\\') {
            escape[0] = '\\';
            escape[1] = (char)c;
            add(t, escape, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(escape, sizeof escape, "\\u%04x", c);
            add_str(t, escape);
        } else if (c < 0x80) {
            add(t, (const char *)s + i, 1);
        } else if ((n = utf8_length(s + i, len - i)) > 0) {
            add(t, (const char *)s + i, n);
            i += n;
            kept += n;
            continue;
        } else {
            add_str(t, "?");
        }
        i++;
        kept++;
    }
    if (i < len) add_str(t, "...");
    add_str(t, "\"");
}

static void emit(struct text *t) {
    size_t done = 0;
    add_str(t, "\n");
    while (done < t->len) {
        ssize_t n = write(report_fd, t->data + done, t->len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    free(t->data);
}

static void emit_named(const char *key, const char *value) {
    struct text t = {0, 0, 0};
    add_str(&t, "{\"");
    add_str(&t, key);
    add_str(&t, "\": ");
    add_json(&t, value);
    add_str(&t, "}");
    emit(&t);
}

static void emit_result(const char *name, int status, const char *message, double seconds) {
    struct text t = {0, 0, 0};
    char number[64];
    add_str(&t, "{\"result\": ");
    add_json(&t, name);
    add_str(&t, ", \"status\": \"");
    add_str(&t, STATUS_NAMES[status]);
    add_str(&t, "\", \"message\": ");
    add_json(&t, message);
    snprintf(number, sizeof number, ", \"time\": %.6f}", seconds < 0 ? 0.0 : seconds);
    add_str(&t, number);
    emit(&t);
}

static void emit_collect(char **names, int count) {
    struct text t = {0, 0, 0};
    int i;
    add_str(&t, "{\"collect\": [");
    for (i = 0; i < count; i++) {
        if (i) add_str(&t, ", ");
        add_json(&t, names[i]);
    }
    add_str(&t, "]}");
    emit(&t);
}

/* ---- parent side: running children ----------------------------------------------------- */

struct child {
    pid_t pid;
    int wait_status;
    int timed_out;
    double seconds;
    int err_fd;
    char dir[64];
};

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV (segmentation fault)";
    case SIGABRT: return "SIGABRT (abort)";
    case SIGFPE: return "SIGFPE (arithmetic error)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGILL: return "SIGILL (illegal instruction)";
    case SIGKILL: return "SIGKILL (out of memory?)";
    case SIGXCPU: return "SIGXCPU (CPU time limit)";
    case SIGXFSZ: return "SIGXFSZ (file size limit)";
    case SIGPIPE: return "SIGPIPE (broken pipe)";
    case SIGTERM: return "SIGTERM";
    case SIGALRM: return "SIGALRM";
    case SIGTRAP: return "SIGTRAP";
    default: return 0;
    }
}

/* "killed by SIGSEGV (...)" or "called exit(3)", and the end of what the child printed on
   stderr (an uncaught exception's what(), a failed assert of the solution's own). */
static void describe_death(const struct child *c, char *out, size_t cap) {
    char tail[STDERR_TAIL + 1];
    struct stat info;
    size_t used;
    ssize_t got = 0;
    if (WIFSIGNALED(c->wait_status)) {
        int sig = WTERMSIG(c->wait_status);
        const char *name = signal_name(sig);
        if (name) snprintf(out, cap, "killed by %s", name);
        else snprintf(out, cap, "killed by signal %d", sig);
    } else {
        snprintf(out, cap, "called exit(%d)", WEXITSTATUS(c->wait_status));
    }
    if (fstat(c->err_fd, &info) == 0 && info.st_size > 0) {
        off_t from = info.st_size > STDERR_TAIL ? info.st_size - STDERR_TAIL : 0;
        got = pread(c->err_fd, tail, STDERR_TAIL, from);
    }
    if (got <= 0) return;
    tail[got] = '\0';
    while (got > 0 && (tail[got - 1] == '\n' || tail[got - 1] == ' ')) tail[--got] = '\0';
    used = strlen(out);
    if (got > 0 && used + 16 < cap) snprintf(out + used, cap - used, "; stderr: %s", tail);
}

static int scratch_file(void) {
    char path[] = "/tmp/assay-stderr-XXXXXX";
    int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
    if (fd >= 0) return fd;
    fd = mkstemp(path);
    if (fd >= 0) unlink(path);
    return fd;
}

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw) {
    (void)info;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void reset_state(void) {
    state->progress = 0;
    state->depth = 0;
    state->ended = RUNNING;
    state->main_status = 0;
    state->status = NONE;
    state->message[0] = '\0';
    state->last_site = -1;
    state->pending[0] = '\0';
}

/* Fork a child running the test; wait until it ends or runs out of time (restarted by each
   completed assert when `progress` is set); kill what is left of its process group. */
static void run_child(struct child *c, const struct assay_test *test, double timeout,
                      int follow_progress) {
    int fds[2], devnull, eof = 0;
    double start, deadline;
    long seen = 0;
    memset(c, 0, sizeof *c);
    strcpy(c->dir, "/tmp/assay-test-XXXXXX");
    if (!mkdtemp(c->dir)) strcpy(c->dir, "/tmp");
    c->err_fd = scratch_file();
    devnull = open("/dev/null", O_RDWR);
    if (pipe(fds) != 0) abort();
    fflush(NULL);
    start = now();
    c->pid = fork();
    if (c->pid < 0) abort();
    if (c->pid == 0) {
        close(fds[0]);
        close(report_fd);
        child_main(test, devnull, c->err_fd, c->dir);
    }
    setpgid(c->pid, c->pid);
    close(fds[1]);
    if (devnull >= 0) close(devnull);
    deadline = start + timeout;
    for (;;) {
        double left, wait_s;
        if (waitpid(c->pid, &c->wait_status, WNOHANG) == c->pid) break;
        if (follow_progress && state->progress != seen) {
            seen = state->progress;
            deadline = now() + timeout;
        }
        left = deadline - now();
        if (left <= 0) {
            kill(-c->pid, SIGKILL);
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &c->wait_status, 0);
            c->timed_out = 1;
            break;
        }
        wait_s = left;
        if (follow_progress && wait_s > PROGRESS_POLL_S) wait_s = PROGRESS_POLL_S;
        /* The pipe reaches EOF when the child dies; if the child closed it, or a grandchild
           holds it, poll instead. */
        if (eof && wait_s > 0.005) wait_s = 0.005;
        if (eof) {
            struct timespec pause;
            pause.tv_sec = 0;
            pause.tv_nsec = (long)(wait_s * 1e9);
            nanosleep(&pause, 0);
        } else {
            fd_set readable;
            struct timeval tv;
            FD_ZERO(&readable);
            FD_SET(fds[0], &readable);
            tv.tv_sec = (long)wait_s;
            tv.tv_usec = (long)((wait_s - (double)tv.tv_sec) * 1e6);
            if (select(fds[0] + 1, &readable, 0, 0, &tv) > 0) {
                char sink[256];
                if (read(fds[0], sink, sizeof sink) <= 0) eof = 1;
            }
        }
    }
    c->seconds = now() - start;
    kill(-c->pid, SIGKILL); /* whatever the test left running */
    close(fds[0]);
}

static void release_child(struct child *c) {
    if (c->err_fd >= 0) close(c->err_fd);
    if (strcmp(c->dir, "/tmp") != 0) nftw(c->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- style 1: one child per test function ----------------------------------------------- */

static void run_function(const struct assay_test *test, double timeout) {
    struct child c;
    char message[MESSAGE_LIMIT + 1];
    int status = ERROR;
    double seconds;
    emit_named("start", test->name);
    reset_state();
    run_child(&c, test, timeout, 0);
    seconds = c.seconds;
    if (c.timed_out) {
        status = TIMEOUT;
        seconds = timeout;
        snprintf(message, sizeof message, "the test exceeded its %g s time limit", timeout);
    } else if (state->ended == RETURNED && state->main_status != 0) {
        status = FAIL;
        snprintf(message, sizeof message, "main returned %d", state->main_status);
    } else if (state->ended == RETURNED) {
        status = PASS;
        message[0] = '\0';
    } else if (state->ended == FAILED || state->ended == EXCEPTION) {
        status = state->ended == FAILED ? FAIL : ERROR;
        copy_text(message, sizeof message, state->message);
    } else {
        char death[MESSAGE_LIMIT - 64];
        describe_death(&c, death, sizeof death);
        snprintf(message, sizeof message, "the test %s%s",
                 WIFSIGNALED(c.wait_status) ? "crashed: " : "", death);
    }
    release_child(&c);
    emit_result(test->name, status, message, seconds);
}

/* ---- style 2: the tests' main, one outcome per assert line ------------------------------ */

static void site_outcome(struct site *s, int status, const char *message, double seconds) {
    s->status = status;
    s->seconds = seconds;
    copy_text(s->message, sizeof s->message, message);
}

static void emit_site(struct site *s, char *name) {
    char message[SITE_MESSAGE + 64];
    emit_named("start", name);
    copy_text(message, sizeof message, s->message);
    if (s->status == FAIL && s->evaluations > 1) {
        size_t used = strlen(message);
        snprintf(message + used, sizeof message - used, " (failed %ld of %ld times)",
                 s->failures, s->evaluations);
    }
    emit_result(name, s->status, message, s->seconds);
}

static void run_main(char **names, const int *selected, double timeout) {
    struct site *sites = state->sites;
    int round, i;
    for (round = 1;; round++) {
        struct child c;
        char death[MESSAGE_LIMIT - 64], message[SITE_MESSAGE];
        int culprit = -1, undecided = 0, abnormal;
        reset_state();
        state->round = round;
        run_child(&c, &assay_tests[0], timeout, 1);
        if (state->depth > 0)
            culprit = state->stack[(state->depth < MAX_DEPTH ? state->depth : MAX_DEPTH) - 1];
        if (state->pending[0] && state->last_site >= 0 && sites[state->last_site].round == round
            && sites[state->last_site].status != FAIL) {
            /* An assert outside the tests failed after the last assert of the tests. */
            sites[state->last_site].status = FAIL;
            copy_text(sites[state->last_site].message, SITE_MESSAGE, state->pending);
        }
        abnormal = c.timed_out || state->ended != RETURNED;
        death[0] = '\0';
        if (state->ended == EXCEPTION) copy_text(death, sizeof death, state->message);
        else if (!c.timed_out) describe_death(&c, death, sizeof death);
        if (abnormal && culprit >= 0) {
            /* It crashed or hung in this assert: it gets the blame, and the next run
               skips it to reach the asserts after it. */
            struct site *s = &sites[culprit];
            if (s->round == 0 || s->round == round) {
                s->round = round;
                if (c.timed_out) {
                    snprintf(message, sizeof message,
                             "this assert exceeded its %g s time limit", timeout);
                    site_outcome(s, TIMEOUT, message, timeout);
                } else {
                    snprintf(message, sizeof message, "%s while evaluating this assert: %s",
                             state->ended == EXCEPTION ? "the program stopped"
                             : WIFSIGNALED(c.wait_status) ? "the program crashed"
                             : "the program exited", death);
                    site_outcome(s, ERROR, message, s->seconds);
                }
            }
            s->poisoned = 1;
        }
        for (i = 0; i < assay_site_count; i++) {
            if (sites[i].round == round && selected[i]) emit_site(&sites[i], names[i]);
            if (sites[i].round == 0 && selected[i]) undecided = 1;
        }
        if (abnormal && culprit >= 0 && undecided) {
            release_child(&c);
            continue;
        }
        /* The program ended outside any assert: the asserts it did not reach get why. */
        if (c.timed_out)
            snprintf(message, sizeof message, "not reached: the program exceeded its %g s time "
                     "limit outside any assert", timeout);
        else if (state->ended == RETURNED)
            snprintf(message, sizeof message, "not reached: main returned %d without running "
                     "this assert", state->main_status);
        else if (state->ended == EXCEPTION)
            snprintf(message, sizeof message, "not reached: %s", death);
        else
            snprintf(message, sizeof message, "not reached: the program %s%s",
                     WIFSIGNALED(c.wait_status) ? "crashed: " : "", death);
        for (i = 0; i < assay_site_count; i++) {
            if (sites[i].round != 0 || !selected[i]) continue;
            site_outcome(&sites[i], c.timed_out ? TIMEOUT : ERROR, message, 0);
            emit_site(&sites[i], names[i]);
        }
        release_child(&c);
        return;
    }
}

/* ---- main ------------------------------------------------------------------------------- */

/* Before the static initializers of the code under test (C++ globals run before main, in
   this process): they no longer find the report fd in the environment. */
__attribute__((constructor(101))) static void take_report_fd(void) {
    const char *fd_text = getenv("ASSAY_REPORT_FD");
    report_fd = fd_text ? atoi(fd_text) : 1;
    fcntl(report_fd, F_SETFD, FD_CLOEXEC);
    unsetenv("ASSAY_REPORT_FD");
}

int main(int argc, char **argv) {
    const char *timeout_text = getenv("ASSAY_TEST_TIMEOUT");
    double timeout = timeout_text ? atof(timeout_text) : 5.0;
    int by_line = assay_style == 2;
    int count = by_line ? assay_site_count : assay_test_count;
    char **names;
    int *selected, i, j;
    size_t size;
    if (timeout <= 0) timeout = 5.0;
    signal(SIGPIPE, SIG_IGN);
    if (assay_fatal) {
        emit_named("fatal", assay_fatal);
        return 0;
    }
    names = (char **)calloc((size_t)count + 1, sizeof *names);
    selected = (int *)calloc((size_t)count + 1, sizeof *selected);
    for (i = 0; i < count; i++) {
        char line_name[32];
        snprintf(line_name, sizeof line_name, "assert:%d", by_line ? assay_site_lines[i] : 0);
        names[i] = strdup(by_line ? line_name : assay_tests[i].name);
        selected[i] = argc <= 1;
        for (j = 1; j < argc; j++)
            if (strcmp(argv[j], names[i]) == 0) selected[i] = 1;
    }
    emit_collect(names, count);
    size = sizeof(struct shared) + sizeof(struct site) * ((size_t)count + 1);
    state = (struct shared *)mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                                  -1, 0);
    if (state == MAP_FAILED) {
        emit_named("fatal", "the runner could not map its shared memory");
        return 1;
    }
    state->sites = (struct site *)(state + 1);
    for (i = 0; i < count; i++) state->sites[i].line = by_line ? assay_site_lines[i] : 0;
    if (by_line) {
        run_main(names, selected, timeout);
    } else {
        for (i = 0; i < count; i++)
            if (selected[i]) run_function(&assay_tests[i], timeout);
    }
    {
        struct text done = {0, 0, 0};
        add_str(&done, "{\"done\": true}");
        emit(&done);
    }
    return 0;
}
