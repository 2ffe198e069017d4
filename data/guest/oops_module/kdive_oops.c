// SPDX-License-Identifier: GPL-2.0
/*
 * kdive_oops: the test module of kdive's bookworm-modoops fixture.
 *
 * It creates /proc/kdive_oops; a write to it walks three noinline functions
 * of the module and dereferences NULL in the innermost one.  With
 * kernel.panic_on_oops=1 the oops ends in panic("Fatal exception"), so the
 * dump holds a panic task whose stack runs from the page fault through these
 * module frames back to the write(2) system call:
 *
 *   echo 1 > /proc/kdive_oops
 *
 * kdive_oops_write -> kdive_oops_outer -> kdive_oops_middle -> kdive_oops_inner
 *
 * Each call's result is used after it returns, so the compiler cannot turn a
 * call into a tail jump (which would drop the caller's frame); noclone keeps
 * the symbol names free of .isra/.constprop suffixes.  The NULL pointer comes
 * from a variable the compiler cannot see through, so it cannot prove the
 * access faults and drop it.
 */
#include <linux/module.h>
#include <linux/proc_fs.h>

#define KDIVE_NOINLINE __attribute__((__noinline__, __noclone__))

struct kdive_oops_node {
	long value;
};

/* Always NULL: the pointer the innermost function dereferences. */
static struct kdive_oops_node *kdive_oops_target;
static struct proc_dir_entry *kdive_oops_entry;

static KDIVE_NOINLINE long kdive_oops_inner(long depth)
{
	struct kdive_oops_node *node = READ_ONCE(kdive_oops_target);

	return READ_ONCE(node->value) + depth;
}

static KDIVE_NOINLINE long kdive_oops_middle(long depth)
{
	long value = kdive_oops_inner(depth + 1);

	barrier();
	return value + depth;
}

static KDIVE_NOINLINE long kdive_oops_outer(long depth)
{
	long value = kdive_oops_middle(depth + 1);

	barrier();
	return value + depth;
}

static KDIVE_NOINLINE ssize_t kdive_oops_write(struct file *file, const char __user *buf, size_t count,
					       loff_t *pos)
{
	long value = kdive_oops_outer((long)count);

	barrier();
	return value ? (ssize_t)count : -EINVAL;
}

static const struct proc_ops kdive_oops_proc_ops = {
	.proc_write = kdive_oops_write,
};

static int __init kdive_oops_init(void)
{
	kdive_oops_entry = proc_create("kdive_oops", 0200, NULL, &kdive_oops_proc_ops);
	return kdive_oops_entry ? 0 : -ENOMEM;
}

static void __exit kdive_oops_exit(void)
{
	proc_remove(kdive_oops_entry);
}

module_init(kdive_oops_init);
module_exit(kdive_oops_exit);
MODULE_DESCRIPTION("kdive test fixture: a NULL dereference a few calls deep from a /proc write");
MODULE_LICENSE("GPL");
