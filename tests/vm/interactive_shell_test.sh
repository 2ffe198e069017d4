#!/usr/bin/env bash
# Drives the kdive prompt over the bookworm fixture in a real terminal (tmux):
# types commands, reads the screen, checks what a person would see — line
# editing, history, Tab completion, the pager, Ctrl-C, start-up files.
# Usage: interactive_shell_test.sh KDIVE_BINARY FIXTURES_PY
set -euo pipefail
kdive=$(realpath "$1")  # the session starts in another directory
fixture=$(python3 "$2" dir bookworm)

socket="kdive-test-$$"
home=$(mktemp -d)
# kdive writes its history as it exits: give it a moment before removing home.
trap 'tmux -L "$socket" kill-server 2>/dev/null || true; sleep 0.5; rm -rf "$home"' EXIT

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
keys() { tmux -L "$socket" send-keys -t t "$@"; }
# The screen's last non-blank line.
last_line() { screen | sed '/^ *$/d' | tail -1; }
# Waits until the last non-blank line is exactly the text, up to 20 s.
expect_last() {
  for _ in $(seq 200); do
    [ "$(last_line)" = "$1" ] && return 0
    sleep 0.1
  done
  fail "the last line never became '$1'"
}
clear_screen() { tmux -L "$socket" send-keys -t t C-l; tmux -L "$socket" clear-history -t t; sleep 0.3; }

# A start-up file: its commands run before the first prompt, an error names
# file:line and the rest of the file still runs.
printf '# kdive start-up file\necho from-the-rc-file\nno-such-rc-command\necho rc-line-four\n' > "$home/.kdiverc"

# The pager is less, as a user without $PAGER gets it.
tmux -L "$socket" new-session -d -s t -x 120 -y 50 \
  "cd '$home'; env -u PAGER -u LESS HOME='$home' '$kdive' '$fixture/vmlinux' '$fixture/vmcore.kdump-zlib'; echo KDIVE-EXITED rc=\$?; sleep 60"

expect "DUMPFILE: $fixture/vmcore.kdump-zlib"
expect "kdive>"  # capture-pane drops the trailing space
expect_line "from-the-rc-file"
expect_line "$home/.kdiverc:3: kdive: command not found: no-such-rc-command (try 'help')"
expect_line "rc-line-four"

type_line "set scroll off"
expect_line "scroll: off"
type_line "help"
expect "Type 'help COMMAND' for a command's manual."
type_line "set scroll on"
expect_line "scroll: on (less -X -E -R -K)"

# set edit: readline's vi mode at run time (Escape, then x deletes the
# character under the cursor), then back to emacs (Ctrl-A: start of line).
type_line "set edit vi"
expect_line "edit: vi"
tmux -L "$socket" send-keys -t t -l "echo vimodexx"
keys Escape
sleep 0.7  # longer than readline's keyseq-timeout: Escape alone, not Meta-x
tmux -L "$socket" send-keys -t t -l "x"
keys Enter
expect_line "vimodex"
type_line "set edit emacs"
expect_line "edit: emacs"
tmux -L "$socket" send-keys -t t -l "cho emacs-mode"
keys C-a
tmux -L "$socket" send-keys -t t -l "e"
keys Enter
expect_line "emacs-mode"

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

# Tab completion: a struct name after `struct`, a member after `p symbol.`,
# a flag. Each line is checked on the screen, then dropped with Ctrl-C.
clear_screen
keys -l "struct task_str"
keys Tab
expect "kdive> struct task_struct"
keys C-c
clear_screen
keys -l "p init_task.co"
keys Tab
# task_struct has comm and compat_robust_list: one Tab takes the line as far
# as they agree, a second lists them — the members alone, without the
# "init_task." before them — and one more letter makes comm the only one.
expect "kdive> p init_task.com"
# (readline lists on the Tab after one that changed nothing)
keys Tab Tab
expect "compat_robust_list"
screen | grep -q "init_task.compat_robust_list" && fail "the listing repeats the path before the members"
keys -l "m"
keys Tab
expect "kdive> p init_task.comm"
keys Enter
expect_line '$1 = "swapper/0\000\000\000\000\000\000"'
clear_screen
keys -l "bt --inl"
keys Tab
expect "kdive> bt --inline"
keys C-c

# The pager: log is longer than the screen, so it stops at less's prompt with
# the output not yet at its end; q returns to the prompt.
clear_screen
type_line "log"
expect_last ":"
screen | grep -q "kdive> $" && fail "the prompt came back before the page was read"
keys q
expect_last "kdive>"
type_line "echo after-the-pager"
expect_line "after-the-pager"
# Piped output is not paged: the pipeline reads all of it.
clear_screen
type_line "log | wc -l"
expect_last "kdive>"

# Ctrl-C in a long command: foreach bt writing into a pipeline that does not
# read blocks once the pipe is full; Ctrl-C stops the command and the prompt
# comes back, and the next command works.
clear_screen
type_line "foreach bt -f | sleep 600"
sleep 1
keys C-c
expect "foreach: interrupted"
expect_last "kdive>"
type_line "echo after-ctrl-c-in-foreach"
expect_line "after-ctrl-c-in-foreach"
# The same in the pager: Ctrl-C leaves less and stops the command.
clear_screen
type_line "foreach bt -f"
expect_last ":"
keys C-c
expect_last "kdive>"
type_line "echo after-ctrl-c-in-pager"
expect_line "after-ctrl-c-in-pager"

type_line "q"
expect "KDIVE-EXITED rc=0"
[ -s "$home/.kdive_history" ] || fail "history was not saved"

# --no-rc skips the start-up file; without it, batch runs it too.
out=$(cd "$home" && HOME="$home" "$kdive" --no-rc -b -c "echo batch-ran" "$fixture/vmlinux" "$fixture/vmcore.kdump-zlib" 2>&1)
[ "$out" = "batch-ran" ] || { echo "FAIL: --no-rc ran a start-up file: $out"; exit 1; }
out=$(cd "$home" && HOME="$home" "$kdive" -b -c "echo batch-ran" "$fixture/vmlinux" "$fixture/vmcore.kdump-zlib" 2>&1)
grep -qx "from-the-rc-file" <<<"$out" || { echo "FAIL: the start-up file did not run in batch mode: $out"; exit 1; }
echo "interactive shell: all checks passed"
