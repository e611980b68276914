<?php
// assay's PHP test runner, run inside the sandbox by the system php (with zend.assertions=1,
// set by the harness's ini file, so that a failed assert() throws).
//
// It reads solution.php and tests.php from the work dir and finds the tests without running
// any of them:
//   - top-level functions whose name starts with "test" (test_add, testAdd; not a lone
//     "test") are the tests, named by the function;
//   - otherwise each top-level statement that asserts (assert(), throw, or a call of a
//     function of the file that does) is a test, run after the plain statements before it
//     ("assert:LINE"); a call such as `test();` or `check($candidate);` of such a function
//     is split into the statements of that function that assert ("test:LINE"), each run
//     after the plain statements before it in that function.
// The tests' own top-level include of the solution (already loaded) and exit() are skipped.
// The parent only tokenizes the code. Each test runs in its own forked child (which loads
// the solution and the tests afresh) under a time limit, so a crash, a fatal error, a hang
// or leftover state in one test does not touch the others. Results go to the report fd.

const ASSAY_MESSAGE_LIMIT = 2000;
const ASSAY_SIGNALS = [1 => 'SIGHUP', 2 => 'SIGINT', 4 => 'SIGILL', 6 => 'SIGABRT',
    7 => 'SIGBUS', 8 => 'SIGFPE', 9 => 'SIGKILL', 11 => 'SIGSEGV', 13 => 'SIGPIPE',
    14 => 'SIGALRM', 15 => 'SIGTERM', 24 => 'SIGXCPU', 25 => 'SIGXFSZ'];

$__assay_fd = (int) getenv('ASSAY_REPORT_FD');
putenv('ASSAY_REPORT_FD');
unset($_ENV['ASSAY_REPORT_FD'], $_SERVER['ASSAY_REPORT_FD']);
// Set by the bwrap sandbox (never by the local backend): every process of our uid in this
// pid namespace, and everything in /tmp, belongs to this run.
define('ASSAY_SANDBOXED', getenv('ASSAY_SANDBOXED') === '1' && posix_getuid() !== 0);
putenv('ASSAY_SANDBOXED');
unset($_ENV['ASSAY_SANDBOXED'], $_SERVER['ASSAY_SANDBOXED']);
$GLOBALS['__assay_report'] = fopen("php://fd/$__assay_fd", 'w');
$GLOBALS['__assay_work'] = getcwd();
// A child's result line starts with this, so that code under test writing to every fd it
// has cannot pass for the child by accident.
$GLOBALS['__assay_nonce'] = bin2hex(random_bytes(12));
unset($__assay_fd);

function assay_emit(array $event): void
{
    fwrite($GLOBALS['__assay_report'], json_encode($event, JSON_INVALID_UTF8_SUBSTITUTE
        | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION) . "\n");
}

function assay_short(string $text): string
{
    return strlen($text) <= ASSAY_MESSAGE_LIMIT ? $text
        : substr($text, 0, ASSAY_MESSAGE_LIMIT) . '...';
}

// -- finding the statements of the tests file ---------------------------------------------

function assay_enum_id(): int
{
    return defined('T_ENUM') ? T_ENUM : -1;
}

function assay_next(array $tokens, int $i, int $to): ?int
{
    for ($i++; $i < $to; $i++) {
        if (!$tokens[$i]->isIgnorable()) {
            return $i;
        }
    }
    return null;
}

// Index of the bracket closing the one opened at $i.
function assay_closing(array $tokens, int $i, int $to): int
{
    $depth = 0;
    for (; $i < $to; $i++) {
        if ($tokens[$i]->is(['(', '[', '{', T_CURLY_OPEN, T_DOLLAR_OPEN_CURLY_BRACES, T_ATTRIBUTE])) {
            $depth++;
        } elseif ($tokens[$i]->is([')', ']', '}']) && --$depth === 0) {
            return $i;
        }
    }
    return $to - 1;
}

// Whether the statement that started with $first goes on after the token at $i.
function assay_continues(array $tokens, int $i, int $to, PhpToken $first): bool
{
    $next = assay_next($tokens, $i, $to);
    if ($next === null) {
        return false;
    }
    $token = $tokens[$next];
    return ($first->is(T_IF) && $token->is([T_ELSE, T_ELSEIF]))
        || ($first->is(T_TRY) && $token->is([T_CATCH, T_FINALLY]))
        || ($first->is(T_DO) && $token->is(T_WHILE));
}

// [start, end] token indexes of each statement between $from and $to.
function assay_statements(array $tokens, int $from, int $to): array
{
    $blocks = [T_FUNCTION, T_CLASS, T_ABSTRACT, T_FINAL, T_INTERFACE, T_TRAIT, T_IF, T_FOR,
        T_FOREACH, T_WHILE, T_DO, T_SWITCH, T_TRY, T_NAMESPACE, T_DECLARE, T_ATTRIBUTE,
        T_READONLY, assay_enum_id(), '{'];
    $statements = [];
    $i = $from;
    while ($i < $to) {
        $first = $tokens[$i];
        if ($first->isIgnorable() || $first->is([';', T_CLOSE_TAG, T_INLINE_HTML])) {
            $i++;
            continue;
        }
        $start = $i;
        $block = $first->is($blocks);
        $depth = 0;
        for (; $i < $to; $i++) {
            $token = $tokens[$i];
            if ($token->is(['(', '[', '{', T_CURLY_OPEN, T_DOLLAR_OPEN_CURLY_BRACES, T_ATTRIBUTE])) {
                $depth++;
            } elseif ($token->is([')', ']', '}'])) {
                $depth--;
                if ($depth === 0 && $block && $token->is('}')
                    && !assay_continues($tokens, $i, $to, $first)) {
                    break;
                }
            } elseif ($depth === 0 && $token->is(';')
                && !assay_continues($tokens, $i, $to, $first)) {
                break;
            } elseif ($depth === 0 && $token->is(T_CLOSE_TAG)) {
                $i--;
                break;
            }
        }
        $end = min($i, $to - 1);
        $statements[] = [$start, $end];
        $i = $end + 1;
    }
    return $statements;
}

// ['function', name, body start, body end] | ['declaration'] | ['skipped'] | ['code'] of the statement at [$start, $end]. Skipped are the tests' own
// include of the solution (already loaded) and an exit() that would end every test.
function assay_kind(array $tokens, int $start, int $end): array
{
    $i = $start;
    while ($tokens[$i]->is(T_ATTRIBUTE)) {
        $i = assay_next($tokens, assay_closing($tokens, $i, $end + 1), $end + 1) ?? $end;
    }
    $token = $tokens[$i];
    if ($token->is(T_FUNCTION)) {
        $name = assay_next($tokens, $i, $end + 1);
        if ($name !== null && $tokens[$name]->text === '&') { // function &byReference()
            $name = assay_next($tokens, $name, $end + 1);
        }
        if ($name === null || !$tokens[$name]->is(T_STRING)) {
            return ['code'];
        }
        $open = $name;
        while ($open < $end && !$tokens[$open]->is('{')) {
            $open++;
        }
        return ['function', $tokens[$name]->text, $open + 1, assay_closing($tokens, $open, $end + 1)];
    }
    if ($token->is([T_CLASS, T_ABSTRACT, T_FINAL, T_READONLY, T_INTERFACE, T_TRAIT,
        assay_enum_id(), T_NAMESPACE, T_USE, T_CONST, T_DECLARE])) {
        return ['declaration'];
    }
    if ($token->is([T_REQUIRE, T_REQUIRE_ONCE, T_INCLUDE, T_INCLUDE_ONCE, T_EXIT])) {
        return ['skipped'];
    }
    return ['code'];
}

// Whether the tokens call assert(), throw, or call one of the $helpers (lowercase names).
function assay_asserts(array $tokens, int $start, int $end, array $helpers): bool
{
    for ($i = $start; $i <= $end; $i++) {
        $token = $tokens[$i];
        if ($token->is(T_THROW)) {
            return true;
        }
        if ($token->is([T_STRING, T_NAME_FULLY_QUALIFIED])) {
            $name = strtolower(ltrim($token->text, '\\'));
            $next = assay_next($tokens, $i, $end + 1);
            if (($name === 'assert' || isset($helpers[$name])) && $next !== null
                && $tokens[$next]->is('(')) {
                return true;
            }
        }
    }
    return false;
}

// The lowercase names of the top-level functions that assert, directly or through another.
function assay_helpers(array $tokens, array $functions): array
{
    $helpers = [];
    do {
        $grew = false;
        foreach ($functions as $name => [$start, $end]) {
            if (!isset($helpers[$name]) && assay_asserts($tokens, $start, $end, $helpers)) {
                $helpers[$name] = true;
                $grew = true;
            }
        }
    } while ($grew);
    return $helpers;
}

// -- the code each test runs ----------------------------------------------------------------

function assay_text(array $tokens, int $start, int $end): string
{
    $text = '';
    for ($i = $start; $i <= $end; $i++) {
        $text .= $tokens[$i]->text;
    }
    return $text;
}

// Pieces ([line, text]) joined so that each keeps its line: messages then name true lines.
function assay_join(array $pieces): string
{
    $code = '';
    $line = 1;
    foreach ($pieces as [$at, $text]) {
        $code .= $at > $line ? str_repeat("\n", $at - $line) : ' ';
        $line = max($line, $at) + substr_count($text, "\n");
        $code .= $text;
    }
    return $code;
}

function assay_piece(array $tokens, int $start, int $end): array
{
    return [$tokens[$start]->line, assay_text($tokens, $start, $end)];
}

// name -> ['code' => what to eval, 'call' => the function to call after or null].
function assay_plans(array $tokens): array
{
    $top = [];
    $functions = [];
    foreach (assay_statements($tokens, 0, count($tokens)) as [$start, $end]) {
        $kind = assay_kind($tokens, $start, $end);
        $top[] = [$start, $end, $kind];
        if ($kind[0] === 'function') {
            $functions[strtolower($kind[1])] = [$kind[2], $kind[3]];
        }
    }
    $helpers = assay_helpers($tokens, $functions);
    $asserts = fn ($s) => $s[2][0] === 'code' && assay_asserts($tokens, $s[0], $s[1], $helpers);

    // The code before a test: declarations always, plain statements (before $upto when
    // given), asserting statements never; $replace swaps a statement for other pieces.
    $base = function (?int $upto, array $replace = []) use ($top, $tokens, $asserts): array {
        $pieces = [];
        foreach ($top as $index => $statement) {
            [$start, $end, $kind] = $statement;
            if ($kind[0] === 'skipped' || $asserts($statement)
                || ($kind[0] === 'code' && $upto !== null && $index >= $upto)) {
                continue;
            }
            $pieces = array_merge($pieces, $replace[$index] ?? [assay_piece($tokens, $start, $end)]);
        }
        return $pieces;
    };

    $tests = array_filter(array_keys($functions), fn ($name) => preg_match('/^test./', $name));
    return assay_function_plans($top, $tests, $base)
        ?: assay_statement_plans($tokens, $top, $helpers, $asserts, $base)
        ?: assay_function_plans($top, isset($functions['test']) ? ['test'] : [], $base);
}

// One test per function named in $tests (lowercase), called after the rest of the file.
function assay_function_plans(array $top, array $tests, Closure $base): array
{
    $plans = [];
    foreach ($top as [, , $kind]) {
        if ($kind[0] === 'function' && in_array(strtolower($kind[1]), $tests, true)) {
            $plans[$kind[1]] = ['code' => assay_join($base(null)), 'call' => $kind[1]];
        }
    }
    return $plans;
}

// One test per asserting top-level statement, or per asserting statement of the function a
// statement such as `test();` only calls.
function assay_statement_plans(array $tokens, array $top, array $helpers, Closure $asserts,
    Closure $base): array
{
    $plans = [];
    foreach ($top as $index => $statement) {
        if (!$asserts($statement)) {
            continue;
        }
        [$start, $end] = $statement;
        $call = assay_piece($tokens, $start, $end);
        $callee = assay_called_helper($tokens, $start, $end, $helpers);
        $parts = $callee === null ? [] : assay_split_function($tokens, $top, $callee, $helpers);
        if (!$parts) {
            $name = assay_unique($plans, 'assert:' . $tokens[$start]->line);
            $plans[$name] = ['code' => assay_join(assay_sorted([...$base($index), $call])),
                'call' => null];
            continue;
        }
        [$declaration, $label, $bodies] = $parts;
        foreach ($bodies as [$line, $replacement]) {
            $pieces = [...$base($index, [$declaration => $replacement]), $call];
            $plans[assay_unique($plans, "$label:$line")] = [
                'code' => assay_join(assay_sorted($pieces)), 'call' => null];
        }
    }
    return $plans;
}

function assay_sorted(array $pieces): array
{
    usort($pieces, fn ($a, $b) => $a[0] <=> $b[0]); // stable: same-line pieces keep order
    return $pieces;
}

function assay_unique(array $plans, string $name): string
{
    for ($n = 2, $unique = $name; isset($plans[$unique]); $n++) {
        $unique = "$name:$n";
    }
    return $unique;
}

// The lowercase name of the helper the statement calls when it is only `helper(...);`.
function assay_called_helper(array $tokens, int $start, int $end, array $helpers): ?string
{
    $name = strtolower(ltrim($tokens[$start]->text, '\\'));
    $open = assay_next($tokens, $start, $end + 1);
    if (!$tokens[$start]->is([T_STRING, T_NAME_FULLY_QUALIFIED]) || !isset($helpers[$name])
        || $open === null || !$tokens[$open]->is('(')) {
        return null;
    }
    $close = assay_closing($tokens, $open, $end + 1);
    $rest = assay_next($tokens, $close, $end + 1);
    return $rest === null || ($tokens[$rest]->is(';') && $rest === $end) ? $name : null;
}

// [index of its declaration, its name, [[line, pieces of the declaration keeping the plain
// statements before one asserting statement and that statement], ...]], one per asserting
// statement of the function's body; [] when it has none.
function assay_split_function(array $tokens, array $top, string $name, array $helpers): array
{
    foreach ($top as $index => [$start, $end, $kind]) {
        if ($kind[0] !== 'function' || strtolower($kind[1]) !== $name) {
            continue;
        }
        [, $label, $bodyStart, $bodyEnd] = $kind;
        $header = assay_piece($tokens, $start, $bodyStart - 1);
        $closing = assay_piece($tokens, $bodyEnd, $bodyEnd);
        $setup = [];
        $bodies = [];
        foreach (assay_statements($tokens, $bodyStart, $bodyEnd) as [$s, $e]) {
            $piece = assay_piece($tokens, $s, $e);
            if (assay_asserts($tokens, $s, $e, $helpers)) {
                $bodies[] = [$tokens[$s]->line, [$header, ...$setup, $piece, $closing]];
            } else {
                $setup[] = $piece;
            }
        }
        return $bodies ? [$index, $label, $bodies] : [];
    }
    return [];
}

// -- running one test in a child ------------------------------------------------------------

function assay_where(string $file, int $line): string
{
    if (str_contains($file, "eval()'d code") || $file === 'tests.php') {
        return "tests.php:$line";
    }
    $work = $GLOBALS['__assay_work'] . '/';
    return (str_starts_with($file, $work) ? substr($file, strlen($work)) : $file) . ":$line";
}

// Where the tests called into the code that threw, when it threw elsewhere.
function assay_test_frame(Throwable $e): ?string
{
    foreach ($e->getTrace() as $frame) {
        if (isset($frame['file']) && str_contains($frame['file'], "eval()'d code")) {
            return assay_where($frame['file'], $frame['line'] ?? 0);
        }
    }
    return null;
}

// A line of the tests file, to show which check failed when the message does not.
function assay_test_line(int $line): string
{
    $lines = @file($GLOBALS['__assay_work'] . '/tests.php') ?: [];
    $text = trim($lines[$line - 1] ?? '');
    return strlen($text) > 200 ? substr($text, 0, 200) . '...' : $text;
}

// [status, message]: a failed assert(), or `throw new Exception(...)` in the tests file (the
// MultiPL-E way of failing a check), is a FAIL; any other exception is an ERROR.
function assay_describe(Throwable $e): array
{
    $where = assay_where($e->getFile(), $e->getLine());
    $inTests = str_starts_with($where, 'tests.php:');
    $caller = $inTests ? null : assay_test_frame($e);
    $where .= $caller === null ? '' : ", called at $caller";
    if ($e instanceof AssertionError) {
        $message = $e->getMessage() !== '' ? $e->getMessage() : 'assert() failed';
        return ['FAIL', "$message ($where)"];
    }
    if ($inTests && get_class($e) === 'Exception') {
        $line = assay_test_line($e->getLine());
        return ['FAIL', $e->getMessage() . " ($where" . ($line === '' ? '' : ": $line") . ')'];
    }
    return ['ERROR', get_class($e) . ': ' . $e->getMessage() . " ($where)"];
}

function assay_child_result(string $status, string $message): void
{
    $state = &$GLOBALS['__assay_child'];
    if ($state['done']) {
        return;
    }
    $state['done'] = true;
    fwrite($state['socket'], $GLOBALS['__assay_nonce'] . ' ' . json_encode(['status' => $status,
        'message' => assay_short($message)], JSON_INVALID_UTF8_SUBSTITUTE) . "\n");
    fflush($state['socket']);
}

// A fatal error or exit() ends the child without unwinding: say what happened on the way out.
function assay_child_shutdown(): void
{
    $state = $GLOBALS['__assay_child'];
    if ($state['done']) {
        return;
    }
    $error = error_get_last();
    $fatal = $error !== null && ($error['type'] & (E_ERROR | E_PARSE | E_CORE_ERROR
        | E_COMPILE_ERROR | E_USER_ERROR | E_RECOVERABLE_ERROR));
    $while = $state['phase'] === 'solution' ? ' while loading the solution' : '';
    if ($fatal) {
        $message = "PHP Fatal error$while: {$error['message']} ("
            . assay_where($error['file'], $error['line']) . ')';
    } else {
        $message = $state['phase'] === 'solution' ? 'the solution called exit() while loading'
            : 'the test called exit() before finishing';
    }
    assay_child_result('ERROR', $message);
}

function assay_child_start(array $child): void
{
    fclose($GLOBALS['__assay_report']);
    unset($GLOBALS['__assay_report']);
    // php://fd/N only opened a copy: close the inherited pipes themselves (the report fd and
    // the launcher's status fd) where FFI can, so the code under test cannot write there.
    try {
        $libc = FFI::cdef('int close(int fd);');
        foreach (scandir('/proc/self/fd') ?: [] as $fd) {
            if (preg_match('/^\d+$/', $fd) && (int) $fd > 2
                && str_starts_with((string) @readlink("/proc/self/fd/$fd"), 'pipe:')) {
                $libc->close((int) $fd);
            }
        }
    } catch (Throwable) {
    }
    posix_setpgid(0, 0);
    chdir($child['scratch']);
    $GLOBALS['__assay_child'] = ['socket' => $child['socket'], 'done' => false,
        'phase' => 'solution'];
    register_shutdown_function('assay_child_shutdown');
}

function assay_child_phase(string $phase): void
{
    $GLOBALS['__assay_child']['phase'] = $phase;
}

function assay_child_failed(Throwable $e): void
{
    [$status, $message] = assay_describe($e);
    if ($GLOBALS['__assay_child']['phase'] === 'solution') {
        [$status, $message] = ['ERROR', "loading the solution raised $message"];
    }
    assay_child_result($status, $message);
}

// -- the parent -----------------------------------------------------------------------------

function assay_death(int $status): string
{
    if (pcntl_wifsignaled($status)) {
        $signal = pcntl_wtermsig($status);
        $name = ASSAY_SIGNALS[$signal] ?? "signal $signal";
        return "the test crashed: killed by $name" . ($signal === 9 ? ' (out of memory?)' : '');
    }
    return 'the test exited with status ' . pcntl_wexitstatus($status) . ' before finishing';
}

// [status, message] of the child $pid, killed at $timeout seconds.
function assay_supervise(int $pid, $socket, float $timeout): array
{
    $deadline = hrtime(true) / 1e9 + $timeout;
    $buffer = '';
    while (true) {
        $left = $deadline - hrtime(true) / 1e9;
        if ($left <= 0) {
            posix_kill(-$pid, SIGKILL);
            pcntl_waitpid($pid, $status);
            return ['TIMEOUT', sprintf('test exceeded its %g s time limit', $timeout)];
        }
        $read = [$socket];
        $none = null;
        $seconds = (int) floor($left);
        if (@stream_select($read, $none, $none, $seconds, (int) (($left - $seconds) * 1e6)) < 1) {
            continue;
        }
        $chunk = fread($socket, 65536);
        if ($chunk === '' || $chunk === false) { // end of file: the child is gone
            pcntl_waitpid($pid, $status);
            return ['ERROR', assay_death($status)];
        }
        $buffer .= $chunk;
        if (preg_match("/(?:^|\n){$GLOBALS['__assay_nonce']} ([^\n]*)\n/", $buffer, $line)) {
            posix_kill(-$pid, SIGKILL);
            pcntl_waitpid($pid, $status);
            $result = json_decode($line[1], true);
            return is_array($result) && isset($result['status'])
                ? [(string) $result['status'], (string) ($result['message'] ?? '')]
                : ['ERROR', 'the test sent an unreadable result'];
        }
    }
}

function assay_clean_up(string $scratch): void
{
    if (ASSAY_SANDBOXED) {
        posix_kill(-1, SIGKILL);
    }
    foreach (ASSAY_SANDBOXED ? [$scratch, '/tmp'] : [$scratch] as $dir) {
        foreach (@scandir($dir) ?: [] as $entry) {
            $path = "$dir/$entry";
            if ($entry !== '.' && $entry !== '..' && $path !== $scratch) {
                assay_remove($path);
            }
        }
    }
}

function assay_remove(string $path): void
{
    if (is_dir($path) && !is_link($path)) {
        foreach (@scandir($path) ?: [] as $entry) {
            if ($entry !== '.' && $entry !== '..') {
                assay_remove("$path/$entry");
            }
        }
        @rmdir($path);
    } else {
        @unlink($path);
    }
}

function assay_parse_error(string $what, ParseError $e): string
{
    return "$what does not parse: PHP Parse error: {$e->getMessage()} on line {$e->getLine()}";
}

// Runs every test; returns only in a forked child, with what it must run (at global scope).
function assay_main(array $argv): ?array
{
    $timeout = (float) (getenv('ASSAY_TEST_TIMEOUT') ?: 5);
    $only = array_slice($argv, 1);
    if (ini_get('zend.assertions') !== '1') {
        @ini_set('zend.assertions', '1');
    }
    if (ini_get('zend.assertions') !== '1') {
        assay_emit(['fatal' => 'assert() is disabled in this PHP (zend.assertions='
            . ini_get('zend.assertions') . ') and cannot be enabled at run time']);
        return null;
    }
    ini_set('assert.exception', '1');
    try {
        $tokens = PhpToken::tokenize(file_get_contents('tests.php'), TOKEN_PARSE);
    } catch (ParseError $e) {
        assay_emit(['fatal' => assay_short(assay_parse_error('the test file', $e))]);
        return null;
    }
    $plans = assay_plans($tokens);
    if (!$plans) {
        assay_emit(['fatal' => 'no tests found: the test file has no test_* functions and no '
            . 'top-level assert(), throw or call of a function that asserts']);
        return null;
    }
    assay_emit(['collect' => array_map('strval', array_keys($plans))]);
    $solution = $GLOBALS['__assay_work'] . '/solution.php';
    try {
        token_get_all(file_get_contents($solution), TOKEN_PARSE);
    } catch (ParseError $e) {
        foreach (array_keys($plans) as $name) {
            assay_emit(['result' => (string) $name, 'status' => 'ERROR', 'time' => 0.0,
                'message' => assay_short(assay_parse_error('the solution', $e))]);
        }
        assay_emit(['done' => true]);
        return null;
    }
    $scratch = sys_get_temp_dir() . '/assay-test-' . getmypid();
    @mkdir($scratch, 0700);
    foreach ($plans as $name => $plan) {
        $name = (string) $name;
        if ($only && !in_array($name, $only, true)) {
            continue;
        }
        assay_emit(['start' => $name]);
        $started = hrtime(true);
        [$parentEnd, $childEnd] = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM,
            STREAM_IPPROTO_IP);
        $pid = pcntl_fork();
        if ($pid === 0) {
            fclose($parentEnd);
            return $plan + ['solution' => $solution, 'socket' => $childEnd,
                'scratch' => $scratch];
        }
        fclose($childEnd);
        if ($pid < 0) {
            [$status, $message] = ['ERROR', 'could not fork a process for the test'];
        } else {
            @posix_setpgid($pid, $pid);
            [$status, $message] = assay_supervise($pid, $parentEnd, $timeout);
        }
        fclose($parentEnd);
        assay_emit(['result' => $name, 'status' => $status, 'message' => assay_short($message),
            'time' => round((hrtime(true) - $started) / 1e9, 6)]);
        assay_clean_up($scratch);
    }
    assay_emit(['done' => true]);
    return null;
}

$__assay_plan = assay_main($argv);
if ($__assay_plan === null) {
    exit(0);
}
// A forked child: the code under test runs here, at global scope, as it would in its file.
assay_child_start($__assay_plan);
try {
    require_once $__assay_plan['solution'];
    assay_child_phase('tests');
    eval($__assay_plan['code']);
    assay_child_phase('test');
    if ($__assay_plan['call'] !== null) {
        ($__assay_plan['call'])();
    }
    assay_child_result('PASS', '');
} catch (Throwable $__assay_error) {
    assay_child_failed($__assay_error);
}
exit(0);
