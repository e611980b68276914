# Run a Bash program after `bash -n`. A syntax error goes to the status fd (ASSAY_STATUS_FD)
# so the sandbox reports COMPILE_ERROR; the fd is closed before the program runs.
__assay_fd="${ASSAY_STATUS_FD:--1}"
unset ASSAY_STATUS_FD
__assay_entry="$1"
shift
if ! __assay_msg="$(bash -n "$__assay_entry" 2>&1)"; then
    if [ "$__assay_fd" -ge 0 ]; then printf '%s\n' "$__assay_msg" >&"$__assay_fd"; fi
    printf '%s\n' "$__assay_msg" >&2
    exit 2
fi
if [ "$__assay_fd" -ge 0 ]; then eval "exec $__assay_fd>&-"; fi
exec bash "$__assay_entry" "$@"
