#!/usr/bin/env python3
"""Runs kdive on a live kernel: inside a QEMU guest, on the kernel it runs on.

    python3 tests/vm/live_guest.py --suite SUITE --kdive PATH/TO/kdive --out RESULT.json

Boots the kernel of a fixture suite (built by fixtures.py beforehand) with an
initramfs holding busybox, kdive with its shared libraries, the guest
workload and data/guest/live-init.  The suite's debug vmlinux (~600 MB, more
than the guest's RAM) reaches the guest as an ext2 image on a read-only
virtio disk: Debian's cloud kernels ship no 9p modules, and a raw disk would
hand kdive a block device, whose st_size (0) is what libelf sizes the file
by.  The guest runs kdive in batch mode (CASES: over /proc/kcore, over
/dev/mem, with no dump, and with no argument at all), prints the output and
its own truth to the serial console, and powers off.  This script parses the
console into RESULT.json (format in tests/vm/README.md) and exits 0 if the
guest ran to the end -- whatever kdive printed: judging that is
live_test.py's job -- or 1 with a one-line reason and the console's tail.

Standard library only, like fixtures.py, whose pieces it reuses.
"""

import argparse
import contextlib
import gzip
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import fixtures  # noqa: E402  (kernels, cpio writer, workload, QEMU command line)
from fixtures import FixtureError  # noqa: E402

LIVE_INIT = fixtures.GUEST_DIR / "live-init"
TIMEOUT = int(os.environ.get("KDIVE_LIVE_TIMEOUT", "240"))  # boot to power-off, seconds
POWEROFF_GRACE = 30  # seconds between the guest's last line and QEMU's exit
PREFIX = "KDIVE-LIVE-"
PANIC_LINE = "Kernel panic - not syncing"

GUEST_VMLINUX = "/mnt/fixture/vmlinux"
# Modules for the vmlinux disk, with what they depend on: virtio_blk is a
# module in all Debian cloud kernels, virtio_pci too in 6.1; ext4 (which also
# mounts ext2) is built in.
DISK_MODULES = ("virtio_pci", "virtio_blk")

# Each command's output is preceded by a line "KDIVE-CMD <command>" (kdive's
# echo), so the test can tell the outputs apart.
COMMAND_MARK = "KDIVE-CMD"
COMMANDS = ("sys", "rd -a linux_banner", "vtop linux_banner", "ptov 0", "rd -p 1000 4")


@dataclass(frozen=True)
class Case:
    name: str
    commands: tuple
    files: tuple  # kdive's positional arguments: VMLINUX [DUMP]

    def argv(self):
        script = "; ".join(f'echo "{COMMAND_MARK} {c}"; {c}' for c in self.commands)
        return ["-b", "-c", script, *self.files]


CASES = (
    Case("kcore", COMMANDS, (GUEST_VMLINUX, "/proc/kcore")),
    # Debian kernels have STRICT_DEVMEM: kdive says so and uses /proc/kcore.
    Case("devmem", COMMANDS, (GUEST_VMLINUX, "/dev/mem")),
    # Live memory changes: a second read must see the new value, not a cached page.
    Case("changing", ("rd jiffies_64", "!sleep 1", "rd jiffies_64"), (GUEST_VMLINUX, "/proc/kcore")),
    # The task list of a running system: the workloads, and kdive itself.
    Case("tasks", ("ps",), (GUEST_VMLINUX, "/proc/kcore")),
    # A process started between two commands of one session: the second ps
    # must list it (the task table of a live kernel is not kept across commands).
    # The escape waits a second so that the background child has exec'd sleep
    # (until then its comm is still "sh").
    Case("refresh", ("ps", "!sleep 300 & sleep 1", "ps"), (GUEST_VMLINUX, "/proc/kcore")),
    Case("default", ("sys",), (GUEST_VMLINUX,)),
    # No vmlinux either: live-init links it where kdive looks for the running
    # kernel's (/usr/lib/debug/boot/vmlinux-RELEASE).
    Case("auto", ("sys",), ()),
)


def log(suite, message):
    print(f"live_guest[{suite}]: {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------ guest pieces


def kernel_package(fixture):
    """(package, version) of the fixture's kernel, from its truth.txt."""
    for line in (fixture / "truth.txt").read_text().splitlines():
        fields = line.split(" ")
        if fields[0] == "kernel_package" and len(fields) == 3:
            return fields[1], fields[2]
    raise FixtureError(f"{fixture / 'truth.txt'} has no kernel_package line")


def image_deb(suite, package, version):
    """The kernel image .deb: fixtures.py keeps it in its debs/ cache; if it
    has been deleted since, fetch it again the way fixtures.py does."""
    debs = fixtures.fixtures_root() / "debs"
    cached = debs / f"{package}_{version}_amd64.deb"
    if cached.is_file():
        return cached
    with fixtures.file_lock(f"dist-{suite.dist}", suite.name):  # fixtures.py's apt lock
        apt = fixtures.PrivateApt(suite.dist)
        apt.setup()
        apt.update()
        return apt.download(package, version, debs)


def extract_disk_modules(deb, release, dest):
    """Writes DISK_MODULES that are not built in, and their dependencies, as
    plain .ko files into DEST, and DEST/order with the insmod order.

    Like fixtures.extract_modules (which only knows fixtures.GUEST_MODULES),
    but extracting each level of dependencies in one pass over the .deb."""
    members = fixtures.deb_members(deb)
    modules_dir = f"/modules/{release}/"
    by_name = {fixtures.module_name(m): m for m in members
               if modules_dir in m and re.search(r"\.ko(\.\w+)?$", m)}
    builtin_member = next((m for m in members if m.endswith(modules_dir + "modules.builtin")), None)
    scratch = dest / ".scratch"
    builtin = set()
    if builtin_member:
        builtin_file, = fixtures.extract_members(deb, [builtin_member], scratch)
        builtin = {fixtures.module_name(line) for line in builtin_file.read_text().split()}

    code, depends = {}, {}  # name -> .ko bytes, name -> its dependencies
    wanted = [m for m in DISK_MODULES if m not in builtin]
    while wanted:
        missing = [m for m in wanted if m not in by_name]
        if missing:
            raise FixtureError(f"modules {missing} are neither built into {release} nor shipped in {deb.name}")
        paths = fixtures.extract_members(deb, [by_name[m] for m in wanted], scratch)
        for name, path in zip(wanted, paths):
            code[name] = fixtures.decompress_module(path)
            depends[name] = [d.replace("-", "_") for d in fixtures.module_depends(code[name])]
        wanted = sorted({d for n in wanted for d in depends[n]} - builtin - code.keys())
    shutil.rmtree(scratch, ignore_errors=True)

    order = []

    def visit(name):  # dependencies first
        if name in order or name not in code:
            return
        for dep in depends[name]:
            visit(dep)
        order.append(name)

    for name in DISK_MODULES:
        visit(name)
    for name in order:
        (dest / f"{name}.ko").write_bytes(code[name])
    (dest / "order").write_text("".join(f"{n}.ko\n" for n in order))


def disk_modules(suite, package, version):
    """The dir with the disk modules of the kernel PACKAGE=VERSION, extracted
    once and cached as <fixtures>/live/<package>_<version>/."""
    root = fixtures.fixtures_root() / "live"
    final = root / f"{package}_{version}"
    if (final / fixtures.COMPLETE_STAMP).is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    with fixtures.file_lock(f"live-{package}_{version}", suite.name):
        if (final / fixtures.COMPLETE_STAMP).is_file():
            return final
        deb = image_deb(suite, package, version)
        fixtures.remove_stale(root, f".{final.name}.extract-")
        work = Path(tempfile.mkdtemp(dir=root, prefix=f".{final.name}.extract-"))
        try:
            extract_disk_modules(deb, package.removeprefix("linux-image-"), work)
            (work / fixtures.COMPLETE_STAMP).write_text(f"{package} {version}\n")
            shutil.rmtree(final, ignore_errors=True)
            os.replace(work, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    log(suite.name, "disk modules: " + " ".join((final / "order").read_text().split()))
    return final


def shared_libraries(binary):
    """Paths of the shared libraries BINARY loads, dynamic loader included, as
    ldd lists them (they go to the same paths in the guest)."""
    result = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
    if result.returncode != 0:
        if "not a dynamic executable" in result.stdout + result.stderr:
            return []
        raise FixtureError(f"ldd {binary} failed: {result.stderr.strip()}")
    libraries = []
    for line in result.stdout.splitlines():
        line = line.strip()
        if "not found" in line:
            raise FixtureError(f"{binary}: a shared library is missing on this machine: {line}")
        # "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" or
        # "/lib64/ld-linux-x86-64.so.2 (0x...)"; the vDSO has no path.
        m = re.match(r"(?:\S+ => )?(/\S+) \(0x[0-9a-f]+\)$", line)
        if m:
            libraries.append(m.group(1))
    return libraries


class Tree:
    """A cpio archive that creates the parent directories of what it adds."""

    def __init__(self):
        self.archive = fixtures.Cpio()
        self.dirs = set()

    def directory(self, path):
        path = path.strip("/")
        if not path or path in self.dirs:
            return
        self.directory(os.path.dirname(path))
        self.archive.directory(path)
        self.dirs.add(path)

    def file(self, path, data, perm=0o644):
        path = path.strip("/")
        self.directory(os.path.dirname(path))
        self.archive.file(path, data, perm)

    def symlink(self, path, target):
        path = path.strip("/")
        self.directory(os.path.dirname(path))
        self.archive.symlink(path, target)


def cases_script():
    """/live/cases.sh: one run_case call per case (run_case is live-init's)."""
    lines = ["# Written by tests/vm/live_guest.py: the kdive runs, sourced by /init."]
    for case in CASES:
        lines.append(shlex.join(["run_case", case.name, *case.argv()]))
    return "\n".join(lines) + "\n"


def busybox_tree(directories, init, programs):
    """A Tree for a test guest: DIRECTORIES, /dev/console, busybox with its
    applets in /bin, INIT as /init, and each of PROGRAMS ({guest path: host
    path}) with the shared libraries it loads."""
    tree = Tree()
    for d in ("dev", "proc", "sys", "tmp", *directories):
        tree.directory(d)
    tree.archive.char_device("dev/console", 5, 1)  # init's stdio before devtmpfs is mounted
    busybox = fixtures.static_busybox()
    tree.file("bin/busybox", busybox.read_bytes(), 0o755)
    applets = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            tree.symlink(f"bin/{applet}", "busybox")
    tree.file("init", init.read_bytes(), 0o755)
    libraries = set()
    for guest_path, program in programs.items():
        tree.file(guest_path, program.read_bytes(), 0o755)
        libraries.update(shared_libraries(program))
    for library in sorted(libraries):
        tree.file(library, Path(library).read_bytes(), 0o755)  # read_bytes follows symlinks
    return tree


def build_initramfs(kdive, workload, modules, out):
    tree = busybox_tree(["mnt/fixture"], LIVE_INIT, {"bin/workload": workload, "bin/kdive": kdive})
    for f in sorted(modules.glob("*.ko")) + [modules / "order"]:
        tree.file(f"modules/{f.name}", f.read_bytes())
    tree.file("live/cases.sh", cases_script().encode())
    out.write_bytes(gzip.compress(tree.archive.bytes(), compresslevel=6, mtime=0))


def sbin_tool(name):
    """e2fsprogs live in /usr/sbin, which a normal user's PATH may lack."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not path:
        raise FixtureError(f"{name} is needed to build the vmlinux disk: apt-get install e2fsprogs")
    return path


def build_vmlinux_disk(vmlinux, image):
    """An ext2 image holding just VMLINUX as /vmlinux.  debugfs copies the one
    file from wherever it is; mke2fs -d would need it in a dir of its own."""
    size = vmlinux.stat().st_size
    with open(image, "wb") as f:
        f.truncate(size + size // 50 + (16 << 20))  # room for block maps and metadata
    fixtures.run([sbin_tool("mke2fs"), "-q", "-F", "-t", "ext2", "-N", "16", "-m", "0", "-L", "fixture",
                  str(image)], "mke2fs")
    if '"' in str(vmlinux):
        raise FixtureError(f"cannot quote {vmlinux} for debugfs")
    debugfs = sbin_tool("debugfs")
    fixtures.run([debugfs, "-w", "-R", f'write "{vmlinux}" vmlinux', str(image)], "debugfs write")
    # debugfs reports most failures on stderr but still exits 0: check the result.
    stat = fixtures.run([debugfs, "-R", "stat vmlinux", str(image)], "debugfs stat")
    m = re.search(r"Size: (\d+)", stat)
    if not m or int(m.group(1)) != size:
        raise FixtureError(f"the vmlinux disk holds {m.group(1) if m else 'no'} bytes of vmlinux, not {size}")


# --------------------------------------------------------------------- boot


def qemu_command(suite, fixture, initramfs, disk, console, qmp_socket):
    """fixtures.py's command line (single-threaded TCG, the suite's CPU, serial
    console to a file) plus the vmlinux disk."""
    cmd = fixtures.qemu_command(suite, fixture / "vmlinuz", initramfs, console, qmp_socket)
    return cmd + ["-drive", f"file={disk},format=raw,if=virtio,readonly=on"]


def kernel_panicked(text):
    """True if the console shows a panic -- from the kernel, not in a line of
    kdive's output (which might quote one from the kernel log)."""
    return any(PANIC_LINE in line and not line.startswith(PREFIX) for line in text.splitlines())


def run_guest(cmd, console, deadline):
    """Runs QEMU until it exits; returns the console text.  Raises FixtureError
    if the kernel panics, the deadline passes, or QEMU hangs after the guest's
    last line instead of powering off."""
    qemu_log = console.with_name("qemu.log")
    with open(qemu_log, "wb") as qlog:
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT,
                                preexec_fn=fixtures.die_with_parent)
    try:
        done_at = None
        while qemu.poll() is None:
            text = fixtures.console_text(console)
            if kernel_panicked(text):
                raise FixtureError("the guest kernel panicked", text)
            if done_at is None and f"{PREFIX}DONE" in text:
                done_at = time.monotonic()
            if done_at is not None and time.monotonic() > done_at + POWEROFF_GRACE:
                raise FixtureError(f"the guest did not power off within {POWEROFF_GRACE} s of its last line", text)
            if time.monotonic() > deadline:
                raise FixtureError(f"timed out after {TIMEOUT} s (KDIVE_LIVE_TIMEOUT)", text)
            time.sleep(0.25)
        text = fixtures.console_text(console)
        if qemu.returncode != 0:
            tail = qemu_log.read_text(errors="replace").strip().splitlines()[-5:]
            raise FixtureError(f"QEMU exited with status {qemu.returncode}: {' | '.join(tail)}", text)
        return text
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()


# ------------------------------------------------------------------ parsing


def parse_console(text):
    """The KDIVE-LIVE- lines of the console as {"truth", "runs", "dmesg",
    "guest_errors", "done"}."""
    result = {"truth": {}, "runs": {}, "dmesg": [], "guest_errors": [], "done": False}
    runs = result["runs"]
    for line in text.splitlines():
        if not line.startswith(PREFIX):
            continue
        kind, _, rest = line[len(PREFIX):].partition(" ")
        if kind == "DONE":
            result["done"] = True
        elif kind == "ERROR":
            result["guest_errors"].append(rest)
        elif kind == "TRUTH":
            key, _, value = rest.partition(" ")
            result["truth"][key] = value
        elif kind == "DMESG":
            result["dmesg"].append(rest.partition(" ")[2])
        elif kind in ("BEGIN", "OUT", "ERR", "STATUS", "TIME", "END"):
            name, _, value = rest.partition(" ")
            run = runs.setdefault(name, {"stdout": [], "stderr": [], "status": None, "seconds": None,
                                         "complete": False})
            if kind == "OUT":
                run["stdout"].append(value)
            elif kind == "ERR":
                run["stderr"].append(value)
            elif kind == "STATUS" and value.isdigit():
                run["status"] = int(value)
            elif kind == "TIME":
                with contextlib.suppress(ValueError):
                    t0, t1 = (float(v) for v in value.split())
                    run["seconds"] = round(t1 - t0, 2)
            elif kind == "END":
                run["complete"] = True
    return result


def check_complete(parsed, console):
    """Raises FixtureError unless the guest did all it should have."""
    if parsed["guest_errors"]:
        raise FixtureError(f"the guest reported: {parsed['guest_errors'][0]}", console)
    for case in CASES:
        run = parsed["runs"].get(case.name)
        if not run or not run["complete"] or run["status"] is None:
            raise FixtureError(f"the console lacks the complete run '{case.name}'", console)
    if not parsed["done"]:
        raise FixtureError("the guest powered off before its last line", console)


# --------------------------------------------------------------------- main


def run_live(suite_name, kdive, timer):
    """Boots the guest; returns the parsed result (see tests/vm/README.md)."""
    suite = fixtures.SUITES[suite_name]
    # The crash fixture is only borrowed for its kernel, vmlinux and truth.txt:
    # never (re)built from here, whatever the state of data/guest/init.
    fixture = fixtures.fixture_dir(suite_name)
    missing = [f for f in ("vmlinuz", "vmlinux", "truth.txt") if not (fixture / f).is_file()]
    if missing:
        raise FixtureError(f"{fixture} lacks {', '.join(missing)}: build it first "
                           f"(python3 tests/vm/fixtures.py ensure {suite_name})")
    package, version = kernel_package(fixture)
    with timer.phase("modules"):
        modules = disk_modules(suite, package, version)
    work = Path(tempfile.mkdtemp(prefix=f"kdive-live-{suite_name}-"))  # short: it holds the QMP socket
    try:
        with timer.phase("initramfs"):
            fixtures.compile_workload(work / "workload")
            build_initramfs(kdive, work / "workload", modules, work / "initramfs.cpio.gz")
        with timer.phase("disk"):
            build_vmlinux_disk(fixture / "vmlinux", work / "vmlinux.ext2")
        console = work / "console.log"
        cmd = qemu_command(suite, fixture, work / "initramfs.cpio.gz", work / "vmlinux.ext2", console,
                           work / "qmp.sock")
        log(suite_name, f"booting {package} {version}")
        with timer.phase("guest"):
            text = run_guest(cmd, console, time.monotonic() + TIMEOUT)
        parsed = parse_console(text)
        check_complete(parsed, text)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for case in CASES:
        parsed["runs"][case.name].update(argv=case.argv(), commands=list(case.commands))
    parsed.pop("done")
    return {"suite": suite_name, "kernel_package": f"{package} {version}", "command_mark": COMMAND_MARK,
            **parsed}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run kdive inside a QEMU guest on its own running kernel.")
    parser.add_argument("--suite", required=True, choices=list(fixtures.SUITES))
    parser.add_argument("--kdive", required=True, type=Path, help="the kdive binary to test")
    parser.add_argument("--out", required=True, type=Path, help="where to write the result (JSON)")
    args = parser.parse_args(argv)
    # On SIGTERM (a CTest timeout), unwind normally: temp dirs go, QEMU is killed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    if not os.access(args.kdive, os.X_OK) or not args.kdive.is_file():
        print(f"live_guest: error: --kdive {args.kdive}: not an executable file", file=sys.stderr)
        return 1
    timer = fixtures.Timer()
    start = time.monotonic()
    try:
        result = run_live(args.suite, args.kdive.resolve(), timer)
    except FixtureError as e:
        print(f"live_guest: error: {args.suite}: {e}", file=sys.stderr)
        fixtures.print_console_tail(e.console)
        return 1
    except Exception as e:  # a bug or an unexpected environment: still one clear line
        print(f"live_guest: error: {args.suite}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    result["timings"] = {name: round(s, 1) for name, s in timer.phases.items()}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    log(args.suite, f"done in {time.monotonic() - start:.1f} s ({timer.summary()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
