#!/usr/bin/env bash
# Drives the kdive prompt over the bookworm fixture in a real terminal (tmux):
# types commands, reads the screen, checks what a person would see.
# Usage: interactive_shell_test.sh KDIVE_BINARY FIXTURES_PY
set -euo pipefail
kdive=$1
fixture=$(python3 "$2" dir bookworm)

socket="kdive-test-$$"
home=$(mktemp -d)
trap 'tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$home"' EXIT

fail() { echo "FAIL: $*"; echo "--- screen ---"; screen; exit 1; }
screen() { tmux -L "$socket" capture-pane -p -t t; }
# Waits until the screen shows the text (fixed string), up to 20 s.
expect() {
  for _ in $(seq 200); do
    screen | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  fail "never saw '$1'"
}
# Waits until a whole screen line is exactly the text (the output, not the
# typed command that contains it), up to 20 s.
expect_line() {
  for _ in $(seq 200); do
    screen | grep -qxF -- "$1" && return 0
    sleep 0.1
  done
  fail "never saw the line '$1'"
}
type_line() { tmux -L "$socket" send-keys -t t -l "$1"; tmux -L "$socket" send-keys -t t Enter; }

tmux -L "$socket" new-session -d -s t -x 120 -y 50 \
  "HOME='$home' '$kdive' '$fixture/vmlinux' '$fixture/vmcore.kdump-zlib'; echo KDIVE-EXITED rc=\$?; sleep 60"

expect "DUMPFILE: $fixture/vmcore.kdump-zlib"
expect "kdive>"  # capture-pane drops the trailing space

type_line "help"
expect "Type 'help COMMAND' for a command's manual."

type_line "echo hello | tr a-z A-Z"
expect_line "HELLO"  # the whole line: no stray prompt under the output

# Tab completes a command name.
tmux -L "$socket" send-keys -t t -l "ech"
tmux -L "$socket" send-keys -t t Tab
tmux -L "$socket" send-keys -t t -l "tab-completed"
tmux -L "$socket" send-keys -t t Enter
expect "kdive> echo tab-completed"
screen | grep -qx "tab-completed" || fail "completion did not produce 'echo '"

# Ctrl-C discards the line being typed and keeps the shell. The keys go in one
# burst, as a fast typist's do: readline must not take the keys typed after
# the Ctrl-C into the discarded line.
tmux -L "$socket" send-keys -t t "garbage-never-run" C-c "echo after-ctrl-c" Enter
expect_line "after-ctrl-c"
screen | grep -q "command not found: garbage" && fail "Ctrl-C did not discard the line"

# History: Up recalls the previous line.
tmux -L "$socket" send-keys -t t Up Enter
for _ in $(seq 100); do
  [ "$(screen | grep -cx 'after-ctrl-c')" -ge 2 ] && break
  sleep 0.1
done
[ "$(screen | grep -cx 'after-ctrl-c')" -ge 2 ] || fail "Up did not recall the last command"

type_line "nosuch"
expect "kdive: command not found: nosuch"

type_line "q"
expect "KDIVE-EXITED rc=0"
[ -s "$home/.kdive_history" ] || fail "history was not saved"
echo "interactive shell: all checks passed"
