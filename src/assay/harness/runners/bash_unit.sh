# assay's Bash test runner, run inside the sandbox by the system bash.
#
# It reads solution.sh and tests.sh from the work dir. The tests are the functions of
# tests.sh named test* (found in its text, named by the function); a test passes when it
# returns 0. A file without such functions that runs commands at its top level (MultiPL-E's
# `set -e; run_test() {...}; run_test`) is one test, "tests.sh", passing when sourcing it
# ends with status 0. Each test runs in a new bash (the same file, with --child) under
# coreutils `timeout`, which kills its whole process group at the time limit: the solution
# is sourced, then the tests (skipping their own top-level calls of test functions and
# `exit`), then the test function is called. Results go to the report fd as JSON lines.

# -- the child: one test --------------------------------------------------------------------

if [[ ${1-} == --child ]]; then
    __assay_mode=$2 __assay_name=$3 __assay_work=$4 __assay_skip=" $5 exit " __assay_nonce=$6
    __assay_tests=$__assay_work/tests.sh
    # The result channel moves off fd 3, which test code may well use for its own ends.
    exec {__assay_out}>&3 3>&-
    set -- # the sourced files must not see the runner's arguments
    # Where a command of the tests file last failed: the message of a failed test says it.
    set -E
    # (One line: LINENO counts the lines of the trap's own text.)
    trap '[[ ${BASH_SOURCE[0]-} == "$__assay_tests" ]] && printf "%s F %s\t%s\n" "$__assay_nonce" "$LINENO" "${BASH_COMMAND//$'"'\n'"'/ }" >&"$__assay_out"' ERR
    printf '%s P solution\n' "$__assay_nonce" >&"$__assay_out"
    source "$__assay_work/solution.sh"
    if [[ $__assay_mode == file ]]; then
        printf '%s P test\n' "$__assay_nonce" >&"$__assay_out"
        source "$__assay_tests"
        printf '%s R %d\n' "$__assay_nonce" "$?" >&"$__assay_out"
        exit 0
    fi
    printf '%s P tests\n' "$__assay_nonce" >&"$__assay_out"
    # Sourcing the tests defines them; their top-level calls of the tests (and an `exit`)
    # are skipped: with extdebug, a DEBUG trap that fails skips the command.
    shopt -s extdebug
    trap 'if [[ ${#FUNCNAME[@]} -le 1 && $__assay_skip == *" ${BASH_COMMAND%% *} "* ]]; then
        ! :; fi' DEBUG
    source "$__assay_tests"
    trap - DEBUG
    shopt -u extdebug
    set -E # turning extdebug off turned it off
    if ! declare -F -- "$__assay_name" >/dev/null; then
        printf '%s N\n' "$__assay_nonce" >&"$__assay_out"
        exit 0
    fi
    printf '%s P test\n' "$__assay_nonce" >&"$__assay_out"
    "$__assay_name"
    printf '%s R %d\n' "$__assay_nonce" "$?" >&"$__assay_out"
    exit 0
fi

# -- the parent -----------------------------------------------------------------------------

report_fd=${ASSAY_REPORT_FD:?}
unset ASSAY_REPORT_FD
# The time limit as plain decimals (the harness may write 1e-05), which timeout reads too.
LC_ALL=C printf -v timeout_s '%.6f' "${ASSAY_TEST_TIMEOUT:-5}" 2>/dev/null || timeout_s=5.000000
while [[ $timeout_s == *.*0 ]]; do timeout_s=${timeout_s%0}; done
timeout_s=${timeout_s%.}
work=$PWD
runner=$work/${BASH_SOURCE[0]##*/}
message_limit=2000
# The child's report lines start with this, so that code under test writing to every fd it
# has cannot pass for the child by accident.
printf -v nonce '%08x%08x%08x' "${SRANDOM:-$RANDOM$RANDOM}" "${SRANDOM:-$RANDOM$RANDOM}" \
    "${SRANDOM:-$RANDOM$RANDOM}"

json_string() {
    local LC_ALL=C text=$1
    text=${text//\\/\\\\}
    text=${text//\"/\\\"}
    text=${text//$'\n'/\\n}
    text=${text//$'\t'/\\t}
    text=${text//[$'\x01'-$'\x1f']/?}
    printf '"%s"' "$text"
}

emit() {
    printf '%s\n' "$1" >&"$report_fd"
}

emit_result() { # name status message seconds
    local message=$3
    if (( ${#message} > message_limit )); then
        message="${message:0:message_limit}..."
    fi
    emit "{\"result\": $(json_string "$1"), \"status\": \"$2\", \"message\": $(json_string "$message"), \"time\": $4}"
}

now_us() {
    local now=${EPOCHREALTIME//[!0-9]/}
    printf '%s' "$((10#$now))"
}

seconds_since() { # start in microseconds -> "s.ffffff"
    local us=$(( $(now_us) - $1 ))
    printf '%d.%06d' "$((us / 1000000))" "$((us % 1000000))"
}

# The test functions of the tests file, in order, from its text: `name() {` or
# `function name {`; a name counts once.
test_functions() {
    local line name seen=" "
    local with_parens='^[[:space:]]*(function[[:space:]]+)?(test[[:alnum:]_:.-]+)[[:space:]]*\(\)'
    local with_keyword='^[[:space:]]*function[[:space:]]+(test[[:alnum:]_:.-]+)[[:space:]]*(\{|$)'
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line =~ $with_parens ]]; then
            name=${BASH_REMATCH[2]}
        elif [[ $line =~ $with_keyword ]]; then
            name=${BASH_REMATCH[1]}
        else
            continue
        fi
        if [[ $seen != *" $name "* ]]; then
            seen+="$name "
            printf '%s\n' "$name"
        fi
    done < "$work/tests.sh"
}

# Whether the tests file runs a command of its own at its top level (column 0), other than
# defining functions and setting things up.
runs_top_level_commands() {
    local line
    local setup='^([#{}]|$|(set|shopt|source|\.|export|readonly|declare|typeset|unset|trap|alias|function)([[:space:]]|$)|[[:alnum:]_]+(\[[^]]*\])?\+?=|[^[:space:]]+[[:space:]]*\(\))'
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ ! $line =~ ^[[:space:]] && ! $line =~ $setup ]]; then
            return 0
        fi
    done < "$work/tests.sh"
    return 1
}

clean_up_after_test() {
    # Only in our own pid namespace (we are its pid 2) and never as root: kill -1 then
    # reaches the processes of this sandbox's user and no one else.
    if (( $$ == 2 && UID != 0 )); then
        kill -9 -1 2>/dev/null
    fi
    local entry
    for entry in "$scratch"/* "$scratch"/.[!.]* /tmp/* /tmp/.[!.]*; do
        if [[ -e $entry || -L $entry ]] && [[ $entry != "$scratch" && $entry != "$state" ]]; then
            rm -rf -- "$entry" 2>/dev/null
        fi
    done
}

# What the child wrote: sets phase, result (the status the test returned, or "") and
# failed ("tests.sh:LINE: COMMAND" of the last command of the tests file that failed).
read_child_report() {
    local line
    phase="" result="" failed=""
    while IFS= read -r line; do
        [[ $line == "$nonce "* ]] || continue
        line=${line#"$nonce "}
        case $line in
            "P "*) phase=${line#P } ;;
            "R "*) result=${line#R } ;;
            N) phase=undefined ;;
            "F "*) line=${line#F }; failed="tests.sh:${line%%$'\t'*}: ${line#*$'\t'}" ;;
        esac
    done < "$state/result"
}

# Sets status and message from how the child ended.
judge() { # mode name exit_status elapsed_us
    local mode=$1 name=$2 code=$3 elapsed=$4
    local last=${failed:+; last failed command: $failed}
    if [[ $result == 0 ]]; then
        status=PASS message=""
    elif [[ -n $result ]]; then
        status=FAIL message="$name returned $result$last"
    elif (( code == 124 || (code == 137 && elapsed >= timeout_us) )); then
        status=TIMEOUT message="test exceeded its $timeout_s s time limit"
    elif (( code > 128 && code < 160 )); then
        local signal
        signal=$(kill -l "$((code - 128))" 2>/dev/null) || signal=$((code - 128))
        status=ERROR message="the test crashed: killed by SIG$signal"
        (( code == 137 )) && message+=" (out of memory?)"
    elif [[ $phase == undefined ]]; then
        status=ERROR message="$name is not a function once the test file is sourced"
    elif [[ $phase == solution ]]; then
        status=ERROR message="the solution exited with status $code while being sourced"
    elif [[ $phase == tests ]]; then
        status=ERROR message="sourcing the test file exited with status $code$last"
    elif [[ $phase != test && $mode != file ]]; then
        status=ERROR message="the test process ended with status $code before starting"
    elif (( code == 0 )); then
        if [[ $mode == file ]]; then
            status=PASS message=""
        else
            status=ERROR message="the test called exit 0 before returning"
        fi
    else
        status=FAIL message="the test exited with status $code$last"
    fi
}

run_test() { # mode name
    local mode=$1 name=$2 start code
    emit "{\"start\": $(json_string "$name")}"
    : > "$state/result"
    start=$(now_us)
    (
        cd "$scratch" || exit 125
        exec timeout -s KILL "$timeout_s" bash "$runner" --child "$mode" "$name" "$work" \
            "$test_names" "$nonce" 3>"$state/result" {report_fd}>&-
    )
    code=$?
    local elapsed=$(( $(now_us) - start ))
    read_child_report
    judge "$mode" "$name" "$code" "$elapsed"
    emit_result "$name" "$status" "$message" "$(seconds_since "$start")"
    clean_up_after_test
}

# Prints what `bash -n` says of the file; fails when it says anything (some syntax errors,
# in [[ ]], leave its status 0).
syntax_errors() {
    local said
    said=$(bash -n "$1" 2>&1)
    local status=$?
    printf '%s' "${said//$work\//}"
    [[ $status == 0 && -z $said ]]
}

main() {
    if ! command -v timeout >/dev/null; then
        emit '{"fatal": "coreutils timeout is missing: the tests cannot be timed"}'
        return
    fi
    local check
    if ! check=$(syntax_errors "$work/tests.sh"); then
        emit "{\"fatal\": $(json_string "the test file does not parse: $check")}"
        return
    fi
    local names=() mode=function name
    mapfile -t names < <(test_functions)
    if (( ${#names[@]} == 0 )) && runs_top_level_commands; then
        mode=file names=(tests.sh)
    fi
    if (( ${#names[@]} == 0 )); then
        emit '{"fatal": "no tests found: the test file defines no test* functions and runs no commands of its own"}'
        return
    fi
    test_names="${names[*]}"
    local collected="" separator=""
    for name in "${names[@]}"; do
        collected+="$separator$(json_string "$name")"
        separator=", "
    done
    emit "{\"collect\": [$collected]}"
    if ! check=$(syntax_errors "$work/solution.sh"); then
        for name in "${names[@]}"; do
            emit_result "$name" ERROR "the solution does not parse: $check" 0.0
        done
        emit '{"done": true}'
        return
    fi
    local only=" $* "
    for name in "${names[@]}"; do
        if (( $# == 0 )) || [[ $only == *" $name "* ]]; then
            run_test "$mode" "$name"
        fi
    done
    emit '{"done": true}'
}

# The time limit in microseconds (bash has no floats), a little less to allow for rounding.
timeout_fraction=000000
[[ $timeout_s == *.* ]] && timeout_fraction="${timeout_s#*.}000000"
timeout_us=$(( (10#${timeout_s%%.*} * 1000000 + 10#${timeout_fraction:0:6}) * 98 / 100 ))
scratch=$(mktemp -d /tmp/assay-test-XXXXXX)
state=$(mktemp -d /tmp/assay-state-XXXXXX)
main "$@"
