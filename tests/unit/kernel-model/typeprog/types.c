/* Types the kernel's DWARF is made of, compiled with -g by the test build. The
 * expected sizes and offsets are stored by the compiler itself in the
 * `expect_*` globals, which the type-engine test reads back through the same
 * DWARF and ELF machinery it checks. Never run; only read. */
#include <stddef.h>

struct list_head {
  struct list_head *next, *prev;
};

typedef int pid_like_t;
typedef pid_like_t pid_chain_t; /* a typedef chain */

enum colour { RED, GREEN = 5, BLUE, NEGATIVE = -2 };
/* GCC stores these in DW_FORM_data1 and data4: unsigned, whatever libdw says. */
enum wide { WIDE_BYTE = 200, WIDE_HIGH = 0x80000000u };
enum wide wide_value = WIDE_HIGH;

/* A declaration then its definition: the definition's DIE names nothing itself
 * and points back with DW_AT_specification. */
extern int declared_then_defined;
int declared_then_defined = 3;

struct flags {
  unsigned int a : 1;
  unsigned int b : 3;
  unsigned int c : 12;
  int d : 5; /* signed: -3 reads back as -3 */
  unsigned long long wide : 40;
  unsigned char tail;
};

typedef long (*handler_t)(struct list_head *, int);

struct task {
  int pid;
  char comm[16];
  union {
    unsigned long word;
    struct {
      unsigned short low;
      unsigned short high;
    };
  };
  struct {
    int x, y;
  } point;
  int grid[3][4];
  struct list_head tasks;
  handler_t handler;
  void (*callback)(void);
  enum colour colour;
  pid_chain_t tgid;
  const char *name;
  struct flags flags;
  struct task *parent;
};

struct blob {
  unsigned int len;
  unsigned char data[]; /* flexible array member */
};

long do_handle(struct list_head *l, int n) { return (long)l + n; }
void do_callback(void) {}

struct task the_task = {
    .pid = 42,
    .comm = "kd-worker",
    .word = 0x1122334455667788ul,
    .point = {7, -9},
    .grid = {{0, 1, 2, 3}, {10, 11, 12, 13}, {20, 21, 22, 23}},
    .handler = do_handle,
    .callback = do_callback,
    .colour = BLUE,
    .tgid = 4242,
    .name = "hello",
    .flags = {.a = 1, .b = 5, .c = 0xabc, .d = -3, .wide = 0x123456789aull, .tail = 'z'},
    .parent = &the_task,
};
struct task *task_ptr = &the_task;
struct task tasks_array[2] = {{.pid = 1, .comm = "one"}, {.pid = 2, .comm = "two"}};
unsigned long counter = 123456789;
int negative = -5;
char letter = 'Q';
_Bool flag_true = 1;
struct counts {
  int n;
  long values[]; /* flexible array member, not of chars */
};
struct counts the_counts = {.n = 2};
int big_array[300] = {1, 2, 3};
char big_string[300] = "x";

/* What the compiler says, for the test to compare with the DWARF. */
unsigned long expect_sizeof_task = sizeof(struct task);
unsigned long expect_sizeof_flags = sizeof(struct flags);
unsigned long expect_sizeof_blob = sizeof(struct blob);
unsigned long expect_offsetof_comm = offsetof(struct task, comm);
unsigned long expect_offsetof_word = offsetof(struct task, word);
unsigned long expect_offsetof_high = offsetof(struct task, high);
unsigned long expect_offsetof_point_y = offsetof(struct task, point.y);
unsigned long expect_offsetof_grid = offsetof(struct task, grid);
unsigned long expect_offsetof_grid_2_1 = offsetof(struct task, grid[2][1]);
unsigned long expect_offsetof_tasks_prev = offsetof(struct task, tasks.prev);
unsigned long expect_offsetof_handler = offsetof(struct task, handler);
unsigned long expect_offsetof_colour = offsetof(struct task, colour);
unsigned long expect_offsetof_tgid = offsetof(struct task, tgid);
unsigned long expect_offsetof_flags = offsetof(struct task, flags);
unsigned long expect_offsetof_tail = offsetof(struct flags, tail);
unsigned long expect_offsetof_data = offsetof(struct blob, data);
unsigned long expect_sizeof_grid_row = sizeof(the_task.grid[0]);
struct blob *blob_ptr;

int main(void) { return (int)(long)task_ptr + (int)counter; }
