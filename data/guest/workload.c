/*
 * Guest workload for kdive's VM fixtures (see tests/vm/README.md).
 *
 * One static binary, several modes chosen by argv[1].  Each mode gives the
 * dumped kernel something specific to find: named threads, sleeping and
 * running tasks, a known set of open files, and user mappings with known
 * contents at known addresses.  Once set up, a mode creates
 * /tmp/kdive/<mode>.ready so the guest's /init knows it may take its
 * ground-truth snapshot.  A mode may also write extra truth lines (without
 * the KDIVE-TRUTH prefix) to /tmp/kdive/<mode>.truth before signalling ready:
 * /init inserts the mode's pid after each line's first word.  Lines that name
 * no process (bpf object ids) go to /tmp/kdive/<mode>.system, printed as they
 * are.
 *
 * Build: gcc -static -O1 -pthread -o workload workload.c
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21 /* Linux 5.4 */
#endif
#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define DIR "/tmp/kdive"
#define PAGE 4096

/* Fixed user addresses, so tests can read known bytes without parsing maps. */
#define SHARED_ADDR ((void *)0x7f0000000000UL) /* file-backed, MAP_SHARED */
#define SHARED_PAGES 3
#define ANON_ADDR ((void *)0x7f0000100000UL) /* anonymous, MAP_PRIVATE */
#define ANON_PAGES 5
#define SWAP_ADDR ((void *)0x7f0000200000UL) /* anonymous; its middle pushed to swap */
#define SWAP_PAGES 16
#define SWAP_OUT_FIRST 4 /* pages [4, 12) are paged out with MADV_PAGEOUT */
#define SWAP_OUT_PAGES 8
#define HUGE_ADDR ((void *)0x7f0000400000UL) /* one 2 MiB hugetlb page */
#define HUGE_SIZE (2UL << 20)

static const char KNOWN_TEXT[] = "kdive known file\nline two\n";
static const char SHARED_PATTERN[] = "KDIVE-MMAP-PATTERN";
static const char ANON_PATTERN[] = "KDIVE-ANON-PATTERN";
static const char DELETED_TEXT[] = "kdive deleted file\n";
static const char SWAP_PATTERN[] = "KDIVE-SWAP-PATTERN";
static const char HUGE_PATTERN[] = "KDIVE-HUGE-PATTERN";

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void set_comm(const char *name)
{
    if (prctl(PR_SET_NAME, name, 0, 0, 0) != 0)
        die("prctl(PR_SET_NAME)");
}

/* Creates PATH with CONTENT (LEN bytes) and closes it. */
static void write_file(const char *path, const void *content, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die(path);
    if (write(fd, content, len) != (ssize_t)len)
        die(path);
    close(fd);
}

/* Signals /init that MODE is fully set up. */
static void mark_ready(const char *mode)
{
    char path[128];
    snprintf(path, sizeof path, DIR "/%s.ready", mode);
    write_file(path, "ready\n", 6);
}

/* Sleeps forever in nanosleep (the task shows as S, in hrtimer_nanosleep). */
static _Noreturn void sleep_forever(void)
{
    for (;;) {
        struct timespec ts = {3600, 0};
        nanosleep(&ts, NULL);
    }
}

/* Fills LEN bytes at DST with PATTERN repeated (the last copy truncated). */
static void fill_pattern(char *dst, size_t len, const char *pattern)
{
    size_t plen = strlen(pattern);
    for (size_t i = 0; i < len; i++)
        dst[i] = pattern[i % plen];
}

/* ---- threaded: main thread + 3 named workers, all sleeping ---- */

static pthread_barrier_t named_barrier;

static void *worker(void *arg)
{
    char name[16];
    snprintf(name, sizeof name, "kd-worker-%d", (int)(intptr_t)arg);
    set_comm(name); /* PR_SET_NAME names the calling thread only */
    pthread_barrier_wait(&named_barrier);
    sleep_forever();
    return NULL;
}

static _Noreturn void mode_threaded(void)
{
    enum { WORKERS = 3 };
    pthread_t tids[WORKERS];

    set_comm("kd-threaded");
    pthread_barrier_init(&named_barrier, NULL, WORKERS + 1);
    for (int i = 0; i < WORKERS; i++)
        if (pthread_create(&tids[i], NULL, worker, (void *)(intptr_t)(i + 1)) != 0)
            die("pthread_create");
    pthread_barrier_wait(&named_barrier); /* all workers have their names */
    mark_ready("threaded");
    for (;;)
        pause(); /* main thread sleeps in pause, workers in nanosleep */
}

/* ---- sleeper ---- */

static _Noreturn void mode_sleeper(void)
{
    set_comm("kd-sleeper");
    mark_ready("sleeper");
    sleep_forever();
}

/* ---- busy: spins on CPU 1 without syscalls, so it is on-CPU at crash ---- */

static _Noreturn void mode_busy(void)
{
    cpu_set_t set;
    volatile unsigned long counter = 0;

    set_comm("kd-busy");
    CPU_ZERO(&set);
    CPU_SET(1, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        die("sched_setaffinity");
    mark_ready("busy");
    for (;;)
        counter++;
}

/* ---- files: a known fd table plus known user mappings ---- */

/* Maps N pages at ADDR exactly; refuses to silently land elsewhere. */
static char *map_fixed(void *addr, size_t len, int prot, int flags, int fd)
{
    char *p = mmap(addr, len, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
    if (p == MAP_FAILED)
        die("mmap");
    if (p != addr) { /* kernels before 4.17 treat the flag as a hint */
        fprintf(stderr, "workload: mmap landed at %p, wanted %p\n", (void *)p, addr);
        exit(1);
    }
    return p;
}

/* Touches every page so each has a present PTE in the dump. */
static unsigned long touch_pages(const char *p, size_t len)
{
    unsigned long sum = 0;
    for (size_t i = 0; i < len; i += PAGE)
        sum += (unsigned char)p[i];
    return sum;
}

static _Noreturn void mode_files(void)
{
    int pipefd[2], sv[2];
    static char buf[SHARED_PAGES * PAGE];

    set_comm("kd-files");

    /* fd table: known.txt, a pipe (both ends), a deleted file, /dev/null,
     * a unix socketpair.  Opened in this order, so fds are 3..9. */
    write_file(DIR "/known.txt", KNOWN_TEXT, sizeof KNOWN_TEXT - 1);
    if (open(DIR "/known.txt", O_RDONLY) < 0)
        die("open known.txt");
    if (pipe(pipefd) != 0)
        die("pipe");
    int del = open(DIR "/deleted.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (del < 0 || write(del, DELETED_TEXT, sizeof DELETED_TEXT - 1) < 0)
        die("deleted.txt");
    if (unlink(DIR "/deleted.txt") != 0)
        die("unlink deleted.txt");
    if (open("/dev/null", O_RDWR) < 0)
        die("open /dev/null");
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        die("socketpair");

    /* Shared file mapping; its fd is closed afterwards, so the file is
     * reachable only through the VMA, not through the fd table. */
    fill_pattern(buf, sizeof buf, SHARED_PATTERN);
    write_file(DIR "/mapped.bin", buf, sizeof buf);
    int mfd = open(DIR "/mapped.bin", O_RDWR);
    if (mfd < 0)
        die("open mapped.bin");
    char *shared = map_fixed(SHARED_ADDR, sizeof buf, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
    close(mfd);

    /* Anonymous private mapping, written so its pages are really allocated. */
    char *anon = map_fixed(ANON_ADDR, ANON_PAGES * PAGE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1);
    fill_pattern(anon, ANON_PAGES * PAGE, ANON_PATTERN);
    volatile unsigned long sink = touch_pages(shared, sizeof buf) + touch_pages(anon, ANON_PAGES * PAGE);
    (void)sink;

    /* Extra truth: where the patterns live (pid is filled in by /init). */
    FILE *t = fopen(DIR "/files.truth", "w");
    if (!t)
        die("files.truth");
    fprintf(t, "pattern %p %d %s\n", (void *)shared, SHARED_PAGES * PAGE, SHARED_PATTERN);
    fprintf(t, "pattern %p %d %s\n", (void *)anon, ANON_PAGES * PAGE, ANON_PATTERN);
    fclose(t);

    mark_ready("files");
    sleep_forever();
}

/* ---- memory: pages in swap and a huge page, with what the kernel says of
 * each page (/proc/self/pagemap), for vm -p, pte, swap and kmem -h ---- */

/* Writes "pagemap ADDR present PFN", "pagemap ADDR swap TYPE OFFSET" or
 * "pagemap ADDR none" for each of N pages at P (pagemap: bit 63 present,
 * bit 62 swapped; PFN in bits 0-54, or swap type in 0-4 and offset in 5-54). */
static void write_pagemap(FILE *t, const char *p, size_t n, size_t step)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0)
        die("open pagemap");
    for (size_t i = 0; i < n; i++) {
        uintptr_t va = (uintptr_t)p + i * step;
        uint64_t e;
        if (pread(fd, &e, sizeof e, (off_t)(va / PAGE * sizeof e)) != sizeof e)
            die("read pagemap");
        if (e >> 63)
            fprintf(t, "pagemap %#lx present %#llx\n", (unsigned long)va,
                    (unsigned long long)(e & ((1ULL << 55) - 1)));
        else if ((e >> 62) & 1)
            fprintf(t, "pagemap %#lx swap %llu %#llx\n", (unsigned long)va, (unsigned long long)(e & 31),
                    (unsigned long long)((e >> 5) & ((1ULL << 50) - 1)));
        else
            fprintf(t, "pagemap %#lx none\n", (unsigned long)va);
    }
    close(fd);
}

static _Noreturn void mode_memory(void)
{
    set_comm("kd-memory");

    /* Written so every page exists, then the middle pushed out: its PTEs
     * become swap entries (when the guest has swap: the oom suite has none,
     * and then the pages stay, as pagemap records). */
    char *swapped = map_fixed(SWAP_ADDR, SWAP_PAGES * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1);
    fill_pattern(swapped, SWAP_PAGES * PAGE, SWAP_PATTERN);
    if (madvise(swapped + SWAP_OUT_FIRST * PAGE, SWAP_OUT_PAGES * PAGE, MADV_PAGEOUT) != 0)
        die("madvise(MADV_PAGEOUT)");

    /* One huge page from the pool /init reserved (vm.nr_hugepages). */
    char *huge = mmap(HUGE_ADDR, HUGE_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED_NOREPLACE, -1, 0);
    if (huge == MAP_FAILED)
        die("mmap(MAP_HUGETLB)");
    fill_pattern(huge, HUGE_SIZE, HUGE_PATTERN);

    /* The swap writes finish asynchronously; pagemap shows the swap entry
     * as soon as the PTE is replaced, but give reclaim a moment. */
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);

    FILE *t = fopen(DIR "/memory.truth", "w");
    if (!t)
        die("memory.truth");
    write_pagemap(t, swapped, SWAP_PAGES, PAGE);
    write_pagemap(t, huge, 1, HUGE_SIZE);
    fprintf(t, "hugepage %p %lu\n", (void *)huge, HUGE_SIZE / 1024);
    fprintf(t, "pattern %p %lu %s\n", (void *)huge, HUGE_SIZE, HUGE_PATTERN);
    fclose(t);

    mark_ready("memory");
    sleep_forever();
}

/* ---- oom: waits for /tmp/kdive/oom.go, then allocates until the kernel
 * panics (the guest sets vm.panic_on_oom=1 first). Waiting lets /init list
 * this task in its snapshot before the allocation storm starts. ---- */

static void *volatile oom_chain; /* keeps chunks reachable, so no allocation is elided */

static _Noreturn void mode_oom(void)
{
    enum { CHUNK = 1 << 20 };

    set_comm("kd-oom");
    mark_ready("oom");
    while (access(DIR "/oom.go", F_OK) != 0) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (;;) {
        char *p = malloc(CHUNK); /* NULL when overcommit refuses: just retry */
        if (p) {
            memset(p, 0xa5, CHUNK);
            *(void **)p = oom_chain;
            oom_chain = p;
        }
    }
}

/* ---- system state for the net, ipc, bpf, sig, dev and mount commands:
 * sockets, SysV IPC objects, BPF objects and signal masks, each with the
 * ids the kernel gave them, in the truth ---- */

/* Opens "/tmp/kdive/<mode>.<kind>" for writing truth lines. */
static FILE *open_truth(const char *mode, const char *kind)
{
    char path[128];
    snprintf(path, sizeof path, DIR "/%s.%s", mode, kind);
    FILE *t = fopen(path, "w");
    if (!t)
        die(path);
    return t;
}

/* The inode of socket FD, as its /proc/self/fd link names it ("socket:[N]"). */
static unsigned long socket_inode(int fd)
{
    char path[64], link[64];
    unsigned long ino = 0;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0)
        die("readlink /proc/self/fd");
    link[n] = '\0';
    if (sscanf(link, "socket:[%lu]", &ino) != 1) {
        fprintf(stderr, "workload: fd %d is %s, not a socket\n", fd, link);
        exit(1);
    }
    return ino;
}

#define NET_PORT 7070 /* the listener on 127.0.0.1 */

/* A TCP listener with one accepted connection from a client socket of the
 * same task (so listener, client and server end are all in its fd table),
 * and a connected AF_UNIX socketpair. */
static _Noreturn void mode_net(void)
{
    set_comm("kd-net");
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0)
        die("socket(AF_INET)");
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(NET_PORT)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0)
        die("bind 127.0.0.1:7070");
    if (listen(listener, 4) != 0)
        die("listen");
    int client = socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0 || connect(client, (struct sockaddr *)&addr, sizeof addr) != 0)
        die("connect 127.0.0.1:7070 (is lo up?)");
    int server = accept(listener, NULL, NULL);
    if (server < 0)
        die("accept");
    /* A few bytes each way: the connection has traffic, and lo counts it. */
    char buf[16];
    if (write(client, "kdive-ping\n", 11) != 11 || read(server, buf, sizeof buf) <= 0)
        die("client to server");
    if (write(server, "kdive-pong\n", 11) != 11 || read(client, buf, sizeof buf) <= 0)
        die("server to client");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        die("socketpair");

    struct sockaddr_in local;
    socklen_t len = sizeof local;
    if (getsockname(client, (struct sockaddr *)&local, &len) != 0)
        die("getsockname");
    FILE *t = open_truth("net", "truth");
    fprintf(t, "tcp_listen 127.0.0.1 %d %lu\n", NET_PORT, socket_inode(listener));
    /* Both ends of the connection: fd, inode, local port, remote port. */
    fprintf(t, "tcp_conn %d %lu %d %d\n", client, socket_inode(client), ntohs(local.sin_port), NET_PORT);
    fprintf(t, "tcp_conn %d %lu %d %d\n", server, socket_inode(server), NET_PORT, ntohs(local.sin_port));
    fprintf(t, "unix_pair %d %lu %d %lu\n", sv[0], socket_inode(sv[0]), sv[1], socket_inode(sv[1]));
    fclose(t);
    mark_ready("net");
    sleep_forever();
}

#define IPC_SHM_KEY 0x4b444901
#define IPC_SEM_KEY 0x4b444902
#define IPC_MSG_KEY 0x4b444903
#define IPC_SHM_SIZE (64 * 1024)
#define TMPFS_FILE "/mnt/kdive-tmpfs/held.txt"

static const char MSG_TEXT[] = "kdive queued message";
static const char TMPFS_TEXT[] = "kdive file on tmpfs\n";

union semun_arg { /* the caller defines it (semctl(2)) */
    int val;
    unsigned short *array;
};

/* A SysV shared memory segment (attached and written), a set of 3
 * semaphores with the values 1 2 3, and a message queue holding one
 * message; also holds a file on the tmpfs /init mounted open. */
static _Noreturn void mode_ipc(void)
{
    set_comm("kd-ipc");
    /* A first object of each kind, removed again: the kernel does not hand
     * out that id again right away (1 on 6.1 rather than 0), so an id a
     * test finds is not a zero by chance. */
    int scratch = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
    if (scratch < 0 || shmctl(scratch, IPC_RMID, NULL) != 0)
        die("shmget/IPC_RMID");
    scratch = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (scratch < 0 || semctl(scratch, 0, IPC_RMID) != 0)
        die("semget/IPC_RMID");
    scratch = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (scratch < 0 || msgctl(scratch, IPC_RMID, NULL) != 0)
        die("msgget/IPC_RMID");
    int shmid = shmget(IPC_SHM_KEY, IPC_SHM_SIZE, IPC_CREAT | IPC_EXCL | 0600);
    if (shmid < 0)
        die("shmget");
    char *shm = shmat(shmid, NULL, 0);
    if (shm == (void *)-1)
        die("shmat");
    fill_pattern(shm, IPC_SHM_SIZE, "KDIVE-SHM-PATTERN");
    int semid = semget(IPC_SEM_KEY, 3, IPC_CREAT | IPC_EXCL | 0600);
    if (semid < 0)
        die("semget");
    unsigned short values[3] = {1, 2, 3};
    if (semctl(semid, 0, SETALL, (union semun_arg){.array = values}) != 0)
        die("semctl(SETALL)");
    int msqid = msgget(IPC_MSG_KEY, IPC_CREAT | IPC_EXCL | 0600);
    if (msqid < 0)
        die("msgget");
    struct {
        long mtype;
        char mtext[sizeof MSG_TEXT];
    } msg = {1, {0}};
    memcpy(msg.mtext, MSG_TEXT, sizeof MSG_TEXT);
    if (msgsnd(msqid, &msg, sizeof MSG_TEXT, 0) != 0)
        die("msgsnd");

    write_file(TMPFS_FILE, TMPFS_TEXT, sizeof TMPFS_TEXT - 1);
    int held = open(TMPFS_FILE, O_RDONLY);
    if (held < 0)
        die("open " TMPFS_FILE);

    FILE *t = open_truth("ipc", "truth");
    fprintf(t, "ipc_id shm %#x %d\n", IPC_SHM_KEY, shmid);
    fprintf(t, "ipc_id sem %#x %d\n", IPC_SEM_KEY, semid);
    fprintf(t, "ipc_id msg %#x %d\n", IPC_MSG_KEY, msqid);
    fprintf(t, "shm_attach %p %d\n", (void *)shm, IPC_SHM_SIZE);
    fprintf(t, "tmpfs_file %d %s\n", held, TMPFS_FILE);
    fclose(t);
    mark_ready("ipc");
    sleep_forever();
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
    return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* An array map and a socket filter that looks element 0 up in it, loaded
 * with the raw bpf() syscall (no libbpf in a static guest), the filter
 * attached to a socket and both fds kept.  The ids are the kernel's (from
 * BPF_OBJ_GET_INFO_BY_FD), for bpf's listings. */
static _Noreturn void mode_bpf(void)
{
    set_comm("kd-bpf");
    /* Before 5.11 BPF memory is charged to RLIMIT_MEMLOCK (64 KiB by default). */
    struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_MEMLOCK, &unlimited);

    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 8;
    attr.max_entries = 4;
    snprintf(attr.map_name, sizeof attr.map_name, "kdive_map");
    int map = (int)sys_bpf(BPF_MAP_CREATE, &attr);
    if (map < 0)
        die("bpf(BPF_MAP_CREATE)");

    /* *(u32 *)(fp - 4) = 0; r2 = fp - 4; r1 = map; call map_lookup_elem;
     * r0 = 0 (keep no bytes of any packet); exit */
    struct bpf_insn prog[] = {
        {.code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .off = -4, .imm = 0},
        {.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10},
        {.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -4},
        {.code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = map},
        {.code = 0}, /* the upper half of the 64-bit immediate */
        {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem},
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
        {.code = BPF_JMP | BPF_EXIT},
    };
    static char verifier_log[4096];
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insns = (uintptr_t)prog;
    attr.insn_cnt = sizeof prog / sizeof prog[0];
    attr.license = (uintptr_t) "GPL";
    attr.log_buf = (uintptr_t)verifier_log;
    attr.log_size = sizeof verifier_log;
    attr.log_level = 1;
    snprintf(attr.prog_name, sizeof attr.prog_name, "kdive_filter");
    int fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd < 0) {
        fprintf(stderr, "workload: verifier log:\n%s\n", verifier_log);
        die("bpf(BPF_PROG_LOAD)");
    }
    int sock = socket(AF_INET, SOCK_DGRAM, 0);
    if (sock < 0 || setsockopt(sock, SOL_SOCKET, SO_ATTACH_BPF, &fd, sizeof fd) != 0)
        die("SO_ATTACH_BPF");

    struct bpf_prog_info pinfo;
    struct bpf_map_info minfo;
    memset(&pinfo, 0, sizeof pinfo);
    memset(&minfo, 0, sizeof minfo);
    memset(&attr, 0, sizeof attr);
    attr.info.bpf_fd = fd;
    attr.info.info_len = sizeof pinfo;
    attr.info.info = (uintptr_t)&pinfo;
    if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) != 0)
        die("bpf(BPF_OBJ_GET_INFO_BY_FD) of the program");
    memset(&attr, 0, sizeof attr);
    attr.info.bpf_fd = map;
    attr.info.info_len = sizeof minfo;
    attr.info.info = (uintptr_t)&minfo;
    if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) != 0)
        die("bpf(BPF_OBJ_GET_INFO_BY_FD) of the map");
    if (pinfo.type != BPF_PROG_TYPE_SOCKET_FILTER || minfo.type != BPF_MAP_TYPE_ARRAY) {
        fprintf(stderr, "workload: bpf object types %u/%u\n", pinfo.type, minfo.type);
        exit(1);
    }

    FILE *t = open_truth("bpf", "system");
    fprintf(t, "bpf prog %u SOCKET_FILTER %s\n", pinfo.id, pinfo.name);
    fprintf(t, "bpf map %u ARRAY %s %u %u %u\n", minfo.id, minfo.name, minfo.key_size, minfo.value_size,
            minfo.max_entries);
    fclose(t);
    t = open_truth("bpf", "truth");
    fprintf(t, "bpf_fd %d prog %u\n", fd, pinfo.id);
    fprintf(t, "bpf_fd %d map %u\n", map, minfo.id);
    fprintf(t, "bpf_socket %d %lu\n", sock, socket_inode(sock));
    fclose(t);
    mark_ready("bpf");
    sleep_forever();
}

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_seen = 1;
}

/* A handler for SIGUSR1, SIGTERM ignored, SIGUSR2 blocked and pending twice
 * over: sent to the process (shared pending, ShdPnd) and to the thread
 * (SigPnd). */
static _Noreturn void mode_signals(void)
{
    set_comm("kd-signals");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        die("sigaction(SIGUSR1)");
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGTERM, &sa, NULL) != 0)
        die("sigaction(SIGTERM)");
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    if (sigprocmask(SIG_BLOCK, &usr2, NULL) != 0)
        die("sigprocmask");
    if (kill(getpid(), SIGUSR2) != 0)
        die("kill(SIGUSR2)");
    if (syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2) != 0)
        die("tgkill(SIGUSR2)");
    mark_ready("signals");
    sleep_forever();
}

/* ---- ksym / kvar: kernel addresses and variable values, as the running
 * kernel sees them, so tests can check KASLR and memory-layout detection.
 * Not a workload: /init runs these once and prefixes the output lines. ---- */

/* Looks NAME up in /proc/kallsyms (core kernel symbols only); 0 if absent. */
static unsigned long kallsyms_lookup(const char *name)
{
    char line[512], sym[256], mod[256];
    unsigned long addr, found = 0;
    char type;
    FILE *f = fopen("/proc/kallsyms", "r");
    if (!f)
        die("/proc/kallsyms");
    while (!found && fgets(line, sizeof line, f)) {
        int n = sscanf(line, "%lx %c %255s %255s", &addr, &type, sym, mod);
        if (n == 3 && strcmp(sym, name) == 0) /* 4 fields = a module's symbol */
            found = addr;
    }
    fclose(f);
    return found;
}

/* Reads LEN bytes of kernel virtual memory at ADDR through /proc/kcore. */
static int kcore_read(unsigned long addr, void *dst, size_t len)
{
    Elf64_Ehdr eh;
    int ok = -1;
    int fd = open("/proc/kcore", O_RDONLY);
    if (fd < 0)
        return -1;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh) {
        for (int i = 0; i < eh.e_phnum && ok != 0; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, eh.e_phoff + (off_t)i * eh.e_phentsize) != (ssize_t)sizeof ph)
                break;
            if (ph.p_type != PT_LOAD || addr < ph.p_vaddr || addr + len > ph.p_vaddr + ph.p_filesz)
                continue;
            if (pread(fd, dst, len, ph.p_offset + (addr - ph.p_vaddr)) == (ssize_t)len)
                ok = 0;
        }
    }
    close(fd);
    return ok;
}

/* Prints "ksym NAME 0xADDR" for each NAME (address 0x0 if not found). */
static _Noreturn void mode_ksym(int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        printf("ksym %s 0x%lx\n", argv[i], kallsyms_lookup(argv[i]));
    exit(0);
}

/* Prints "kvar NAME 0xVALUE" (a u64 variable) for each NAME; NAME:N prints
 * N array elements as "kvar NAME[i] 0xVALUE". */
static _Noreturn void mode_kvar(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        char name[256];
        int count = 1, array = 0;
        snprintf(name, sizeof name, "%s", argv[i]);
        char *colon = strchr(name, ':');
        if (colon) {
            *colon = '\0';
            count = atoi(colon + 1);
            array = 1;
        }
        unsigned long addr = kallsyms_lookup(name);
        for (int k = 0; k < count; k++) {
            uint64_t value;
            if (!addr || kcore_read(addr + 8UL * k, &value, sizeof value) != 0) {
                printf("warning kvar %s unreadable\n", name);
                break;
            }
            if (array)
                printf("kvar %s[%d] 0x%llx\n", name, k, (unsigned long long)value);
            else
                printf("kvar %s 0x%llx\n", name, (unsigned long long)value);
        }
    }
    exit(0);
}

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: workload threaded|sleeper|busy|files|memory|oom|net|ipc|bpf|signals\n"
                    "       workload ksym NAME...\n"
                    "       workload kvar NAME[:COUNT]...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*run)(void);
    } workloads[] = {
        {"threaded", mode_threaded}, {"sleeper", mode_sleeper}, {"busy", mode_busy},
        {"files", mode_files},       {"oom", mode_oom},   {"memory", mode_memory},
        {"net", mode_net},           {"ipc", mode_ipc},   {"bpf", mode_bpf},
        {"signals", mode_signals},
    };

    if (argc < 2)
        usage();
    if (strcmp(argv[1], "ksym") == 0)
        mode_ksym(argc, argv);
    if (strcmp(argv[1], "kvar") == 0)
        mode_kvar(argc, argv);
    if (argc == 2)
        for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++)
            if (strcmp(argv[1], workloads[i].name) == 0)
                workloads[i].run(); /* never returns */
    usage();
}
