#!/usr/bin/env python3
"""Fast reboot with kdive-kexec: kernel A loads kernel B and starts it.

    python3 tests/vm/kexec_reboot_test.py --suite bookworm --kdive-kexec PATH/TO/kdive-kexec

Boots the suite's kernel (kernel A) under QEMU, as live_guest.py does, with
an initramfs holding busybox, kdive-kexec with its shared libraries, the
same vmlinuz, a second small initramfs for kernel B, a random marker and
data/guest/kexec-init as /init.  A runs `kdive-kexec --status`, `-p`
(booted without crashkernel=, so it must fail with the no-reservation line),
`-l` of a file that is not a bzImage, `-l /vmlinuz --initrd /initrd.img
--append "kdive-marker=<marker> crashkernel=96M"` and `-e`.  The test
passes when kernel B's console shows the marker on its own command line,
with a new boot id and a second kernel banner, and every kdive-kexec line
printed says what it should -- including B's, which tries `-p` in the
96 MiB reserved: too large with a 96 MiB initrd, loaded without, unloaded,
and whose `--status --json` gives the text's facts as numbers.  Exits 0 on success, 1 with the failed checks and the console's
tail, 77 when QEMU is missing.  Standard library only.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import fixtures  # noqa: E402  (kernels, busybox, cpio, QEMU command line)
import live_guest  # noqa: E402  (a busybox initramfs tree, running a guest to its end)
from fixtures import FixtureError  # noqa: E402

KEXEC_INIT = fixtures.GUEST_DIR / "kexec-init"
PREFIX = live_guest.PREFIX  # run_guest watches for PREFIX + "DONE"
TIMEOUT = int(os.environ.get("KDIVE_KEXEC_TIMEOUT", "150"))  # both boots, seconds
SKIP = 77
B_RESERVATION = "crashkernel=96M"  # what kexec-init's A appends to B's line


def build_initramfs(kexec, vmlinuz, marker, out):
    """Kernel A's initramfs, with kernel B's inside it (an initramfs cannot
    hold itself).  Uncompressed: the kernel unpacks a plain cpio as well, and
    the guest is spared a decompression under TCG."""
    inner_tree = live_guest.busybox_tree([], KEXEC_INIT, {"bin/kdive-kexec": kexec})
    inner_tree.file("vmlinuz", vmlinuz.read_bytes())  # B loads it with -p
    inner = inner_tree.archive.bytes()
    tree = live_guest.busybox_tree([], KEXEC_INIT, {"bin/kdive-kexec": kexec})
    tree.file("vmlinuz", vmlinuz.read_bytes())
    tree.file("initrd.img", inner)
    tree.file("marker", f"{marker}\n".encode())
    out.write_bytes(tree.archive.bytes())


def parse(text):
    """{"A": {what: value}, "B": {...}, "runs": {name: {"lines", "status"}},
    "errors": [...], "done": bool, "order": [kind, …]} from the console."""
    result = {"A": {}, "B": {}, "runs": {}, "errors": [], "done": False, "order": []}
    for raw in text.splitlines():
        if not raw.startswith(PREFIX):
            continue
        kind, _, rest = raw[len(PREFIX):].partition(" ")
        result["order"].append(f"{kind} {rest.split(' ', 1)[0]}")
        if kind in ("A", "B"):
            what, _, value = rest.partition(" ")
            result[kind][what] = value
        elif kind in ("OUT", "STATUS"):
            name, _, value = rest.partition(" ")
            run = result["runs"].setdefault(name, {"lines": [], "status": None})
            if kind == "OUT":
                run["lines"].append(value)
            elif value.isdigit():
                run["status"] = int(value)
        elif kind == "ERROR":
            result["errors"].append(rest)
        elif kind == "DONE":
            result["done"] = True
    return result


def human_size(size):
    """kdive-kexec's sizes: "80 MiB", "51.5 MiB", "1.5 GiB"."""
    units = ("bytes", "KiB", "MiB", "GiB", "TiB")
    value, unit = float(size), 0
    while value >= 1024 and unit + 1 < len(units):
        value, unit = value / 1024, unit + 1
    if unit == 0:
        return f"{size} bytes"
    return f"{int(value)} {units[unit]}" if value == int(value) else f"{value:.1f} {units[unit]}"


def init_size(vmlinuz):
    """The bzImage setup header's init_size (boot protocol 2.10+, offset 0x260)."""
    with open(vmlinuz, "rb") as f:
        f.seek(0x260)
        return int.from_bytes(f.read(4), "little")


def check(parsed, text, marker, init_size):
    """The failed checks, as lines."""
    failures = []

    def expect(ok, what):
        if not ok:
            failures.append(what)

    def run(name):
        return parsed["runs"].get(name, {"lines": [], "status": None})

    def has_line(name, needle):
        return any(needle in line for line in run(name)["lines"])

    expect(not parsed["errors"], f"the guest reported: {parsed['errors']}")
    a, b = parsed["A"], parsed["B"]
    # A is booted without the marker: only a kernel started with the line
    # kdive-kexec loaded can print it.
    expect("kdive-marker=" not in a.get("cmdline", "kdive-marker="), f"kernel A's command line: {a.get('cmdline')}")

    status = run("A-status")
    expect(status["status"] == 0, f"--status in A exited {status['status']}")
    expect(has_line("A-status", "kexec kernel (-l):    not loaded"), "A's --status does not say -l is not loaded")
    expect(has_line("A-status", "crash reservation:    none"), "A's --status does not say nothing is reserved")
    expect(has_line("A-status", "crashkernel= option:  none"), "A's --status shows a crashkernel= option")

    noreserve = run("A-noreserve")
    expect(noreserve["status"] == 1, f"-p without a reservation exited {noreserve['status']}, not 1")
    expect(noreserve["lines"] == ["kdive-kexec: error: -p /vmlinuz: no memory is reserved for a crash kernel "
                                  "(/sys/kernel/kexec_crash_size is 0): boot with crashkernel=SIZE (kdive-kexec "
                                  "--recommend suggests a size)"],
           f"-p without a reservation printed {noreserve['lines']}")

    notbz = run("A-notbzimage")
    expect(notbz["status"] == 1 and len(notbz["lines"]) == 1 and
           notbz["lines"][0].startswith("kdive-kexec: error: -l /bin/busybox: not a bzImage"),
           f"-l of busybox: status {notbz['status']}, {notbz['lines']}")

    load = run("A-load")
    expect(load["status"] == 0, f"-l exited {load['status']}: {load['lines']}")
    expect(has_line("A-load", f"command line: {a.get('cmdline')} kdive-marker={marker} {B_RESERVATION}"),
           f"-l did not load A's command line plus the marker: {load['lines']}")
    expect(has_line("A-loaded", "kexec kernel (-l):    loaded"), f"--status after -l: {run('A-loaded')['lines']}")

    expect(b.get("marker") == marker, f"kernel B printed marker {b.get('marker')!r}, expected {marker!r}")
    expect(f"kdive-marker={marker}" in b.get("cmdline", "").split(), f"kernel B's command line: {b.get('cmdline')}")
    expect(b.get("boot_id") and b.get("boot_id") != a.get("boot_id"), "kernel B has kernel A's boot id")
    expect(text.count("Linux version ") >= 2, "the console shows one kernel banner, not two")
    order = parsed["order"]
    expect("A exec" in order and "B marker" in order and order.index("A exec") < order.index("B marker"),
           "kernel B's lines do not follow A's -e")
    # A fresh kernel: nothing loaded any more.
    expect(has_line("B-status", "kexec kernel (-l):    not loaded"), f"B's --status: {run('B-status')['lines']}")

    # The crash kernel path in B, against the reservation A's line gave it.
    size = B_RESERVATION.partition("=")[2].rstrip("M") + " MiB"
    toolarge = run("B-toolarge")
    expect(toolarge["status"] == 1 and len(toolarge["lines"]) == 1 and
           f"does not fit the crashkernel= reservation of {size}" in toolarge["lines"][0],
           f"-p with a 96 MiB initrd: status {toolarge['status']}, {toolarge['lines']}")
    crash = run("B-crash")
    crash_line = f"as the crash kernel; command line: {b.get('cmdline', '').replace(' ' + B_RESERVATION, '')}"
    expect(crash["status"] == 0 and has_line("B-crash", crash_line + " irqpoll nr_cpus=1 reset_devices"),
           f"-p in B: status {crash['status']}, {crash['lines']} (expected '{crash_line} irqpoll …')")
    expect(has_line("B-crashstatus", "crash kernel (-p):    loaded"), "B's --status: the crash kernel is not loaded")
    expect(has_line("B-crashstatus", f"crash reservation:    {size} ("), f"B's --status: not {size} reserved")
    expect(any(line.startswith("Crash kernel range:   0x") and f" {size} " in line
               for line in run("B-crashstatus")["lines"]), f"B's --status: no {size} Crash kernel range")
    expect(has_line("B-crashstatus", f"crashkernel= option:  {B_RESERVATION} "), "B's --status: no crashkernel=")
    # --status --json: the same facts as that text, as numbers.
    crashjson = run("B-crashjson")
    try:
        status_json = json.loads(crashjson["lines"][0]) if len(crashjson["lines"]) == 1 else {}
    except ValueError:
        status_json = {}
    result = status_json.get("result", {})
    reserved = int(B_RESERVATION.partition("=")[2].rstrip("M")) << 20
    text_ranges = [line.split()[3] for line in run("B-crashstatus")["lines"] if line.startswith("Crash kernel range:")]
    json_ranges = [f"{r['start']:#018x}-{r['end']:#018x}" for r in result.get("crash_ranges", [])]
    expect(crashjson["status"] == 0 and status_json.get("command") == "kdive-kexec --status" and
           result.get("crash_loaded") is True and result.get("crash_size") == reserved and
           result.get("crashkernel") == B_RESERVATION and json_ranges == text_ranges and
           sum(r["size"] for r in result.get("crash_ranges", [])) == reserved,
           f"--status --json in B: status {crashjson['status']}, {crashjson['lines']} (text ranges {text_ranges})")
    expect(run("B-unload")["status"] == 0, f"-p -u in B: {run('B-unload')}")
    expect(has_line("B-unloaded", "crash kernel (-p):    not loaded"), "B's --status after -p -u: still loaded")

    # --recommend on a real kernel: the capture kernel's term is the
    # vmlinuz's init_size, and the RAM is B's MemTotal.
    recommend = run("B-recommend")
    expect(recommend["status"] == 0 and recommend["lines"][:1] and
           recommend["lines"][0].startswith("recommended: crashkernel="),
           f"--recommend in B: status {recommend['status']}, {recommend['lines'][:3]}")
    expect(has_line("B-recommend", f"{human_size(init_size)}  capture kernel       /vmlinuz: its init_size"),
           f"--recommend does not count the vmlinuz's init_size ({human_size(init_size)})")
    memtotal = b.get("memtotal", "").split()
    ram = int(memtotal[1]) * 1024 if len(memtotal) == 3 and memtotal[1].isdigit() else None
    expect(ram and has_line("B-recommend", f"This machine: {human_size(ram)} of RAM"),
           f"--recommend does not report B's MemTotal ({b.get('memtotal')})")
    expect(parsed["done"], "kernel B did not finish")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description="Fast reboot through kdive-kexec -l and -e in a QEMU guest.")
    parser.add_argument("--suite", default="bookworm", choices=list(fixtures.SUITES))
    parser.add_argument("--kdive-kexec", required=True, type=Path, help="the kdive-kexec binary to test")
    parser.add_argument("--show", action="store_true", help="print the guest's lines even when every check passes")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if not shutil.which("qemu-system-x86_64"):
        print("SKIP: qemu-system-x86_64 is not installed", file=sys.stderr)
        return SKIP
    if not (args.kdive_kexec.is_file() and os.access(args.kdive_kexec, os.X_OK)):
        print(f"kexec_reboot_test: error: --kdive-kexec {args.kdive_kexec}: not an executable file", file=sys.stderr)
        return 1
    fixture = fixtures.fixture_dir(args.suite)
    vmlinuz = fixture / "vmlinuz"
    if not vmlinuz.is_file():
        print(f"kexec_reboot_test: error: {vmlinuz} is missing: python3 tests/vm/fixtures.py ensure {args.suite}",
              file=sys.stderr)
        return 1

    suite = fixtures.SUITES[args.suite]
    marker = secrets.token_hex(8)
    work = Path(tempfile.mkdtemp(prefix="kdive-kexec-"))  # short: it holds the QMP socket
    start = time.monotonic()
    try:
        build_initramfs(args.kdive_kexec.resolve(), vmlinuz, marker, work / "initramfs.cpio")
        console = work / "console.log"
        cmd = fixtures.qemu_command(suite, vmlinuz, work / "initramfs.cpio", console, work / "qmp.sock")
        try:
            text = live_guest.run_guest(cmd, console, time.monotonic() + TIMEOUT)
        except FixtureError as e:
            print(f"kexec_reboot_test: error: {e}", file=sys.stderr)
            fixtures.print_console_tail(e.console or fixtures.console_text(console))
            return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)

    failures = check(parse(text), text, marker, init_size(vmlinuz))
    if args.show:
        print(*[l for l in text.splitlines() if l.startswith(PREFIX)], sep="\n")
    if failures:
        print(f"kexec_reboot_test: {len(failures)} check(s) failed:", *failures, sep="\n  ", file=sys.stderr)
        print("--- guest lines ---", *[l for l in text.splitlines() if l.startswith(PREFIX)], sep="\n",
              file=sys.stderr)
        return 1
    print(f"kexec_reboot_test: kernel B booted with marker {marker} ({time.monotonic() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
