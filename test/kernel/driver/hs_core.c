// SPDX-License-Identifier: GPL-2.0
/*
 * hs_core: the lab's "subsystem" module (mode=fenced). It registers the character device, owns
 * its file_operations (.owner = THIS_MODULE is hs_core, not the driver) and calls into the
 * driver (the fenced build of hs_lab) through struct hs_core_ops, as the RDMA core does for
 * the drivers under it. On hs_core_unregister() it fences the driver (no driver code runs once
 * it returns) and revokes the open files, so the DRIVER module can be unloaded and a new
 * version loaded while zombie files are still open: only hs_core stays pinned.
 *
 * Who holds which reference:
 *   - Each open file pins hs_core: misc_open() takes a reference on hs_core_fops.owner, which
 *     __fput() drops after ->release(). It pins nothing in the driver.
 *   - The driver pins hs_core by using its exported symbols (it is listed in
 *     /sys/module/hs_core/holders/ and counted in its refcnt while loaded).
 *   - Each open file holds a kref on its struct hs_core_dev, and the registration holds one
 *     that unregister drops: a zombie can still look at cdev->dead, and the last reference
 *     frees the struct.
 *   - The driver's code, its ops table and its `drv` data are only guaranteed to exist until
 *     hs_core_unregister() returns (the driver calls it from remove(), before devm frees its
 *     data and before its module can go away). Every path into the driver is therefore either
 *     inside an SRCU read-side section that checked cdev->dead (open, read, write), or holds
 *     cdev->lock while the file is still on cdev->files (release), and unregister waits both
 *     out before returning.
 */
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "hs_core.h"

struct hs_core_dev {
	struct kref ref; /* the registration's + one per open file */
	const struct hs_core_ops *ops; /* the driver's: see the fencing rules above */
	void *drv;

	/*
	 * Calls into the driver (open, read, write) run inside an SRCU read-side section and
	 * check `dead` first. Unregister sets `dead`, then synchronize_srcu(): when that returns,
	 * every call that could have seen dead == false has returned, and every later one sees
	 * dead == true. SRCU because the driver's callbacks may sleep; expedited in unregister for
	 * the reason hs_lab.c gives (the unbind returns a grace period sooner).
	 */
	struct srcu_struct srcu;
	bool dead; /* fenced: READ_ONCE under SRCU, set once by unregister */

	/*
	 * Protects `files`. A file is on the list exactly while the driver holds per-file state
	 * for it (its open() succeeded and its release() has not been called yet).
	 */
	struct mutex lock;
	struct list_head files;

	char name[32];
	struct miscdevice misc;
};

struct hs_core_file {
	struct hs_core_dev *cdev;
	struct list_head node; /* in cdev->files, or empty once the driver released it */
	void *priv; /* the driver's per-file state */
};

static void hs_core_dev_free(struct kref *ref)
{
	struct hs_core_dev *cdev = container_of(ref, struct hs_core_dev, ref);

	cleanup_srcu_struct(&cdev->srcu);
	kfree(cdev);
}

static int hs_core_open(struct inode *inode, struct file *file)
{
	/*
	 * misc_open() calls us holding misc_mtx, which misc_deregister() also takes: unregister
	 * cannot get past misc_deregister(), and so cannot drop the registration's reference,
	 * while we run. cdev is alive here.
	 */
	struct hs_core_dev *cdev = container_of(file->private_data, struct hs_core_dev, misc);
	struct hs_core_file *f;
	int idx, ret;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	INIT_LIST_HEAD(&f->node);

	idx = srcu_read_lock(&cdev->srcu);
	if (READ_ONCE(cdev->dead)) {
		ret = -ENODEV;
		goto out;
	}
	ret = cdev->ops->open(cdev->drv, &f->priv);
	if (ret)
		goto out;
	/*
	 * Still inside the SRCU section: unregister, if it has started, is waiting for us in
	 * synchronize_srcu() and will find this file on the list when it disassociates.
	 */
	mutex_lock(&cdev->lock);
	list_add(&f->node, &cdev->files);
	mutex_unlock(&cdev->lock);
	kref_get(&cdev->ref);
	f->cdev = cdev;
	file->private_data = f;
out:
	srcu_read_unlock(&cdev->srcu, idx);
	if (ret)
		kfree(f);
	return ret;
}

static int hs_core_release(struct inode *inode, struct file *file)
{
	struct hs_core_file *f = file->private_data;
	struct hs_core_dev *cdev = f->cdev;

	/*
	 * On the list under the lock means unregister has not disassociated this file yet, so it
	 * has not returned and the driver is still there (possibly fenced already, but its
	 * remove() is still running). Off the list: the driver released it, do not call it.
	 */
	mutex_lock(&cdev->lock);
	if (!list_empty(&f->node)) {
		list_del_init(&f->node);
		cdev->ops->release(cdev->drv, f->priv);
	}
	mutex_unlock(&cdev->lock);
	kref_put(&cdev->ref, hs_core_dev_free);
	kfree(f);
	return 0;
}

static ssize_t hs_core_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	struct hs_core_file *f = file->private_data;
	struct hs_core_dev *cdev = f->cdev;
	char chunk[HS_CORE_CHUNK];
	ssize_t len;
	int idx;

	idx = srcu_read_lock(&cdev->srcu);
	if (READ_ONCE(cdev->dead)) {
		srcu_read_unlock(&cdev->srcu, idx);
		return -ENODEV;
	}
	len = cdev->ops->read(cdev->drv, f->priv, chunk);
	srcu_read_unlock(&cdev->srcu, idx);
	if (len < 0)
		return len;
	/* To user space outside the section: a slow fault cannot delay unregister. */
	return simple_read_from_buffer(buf, count, ppos, chunk, min_t(size_t, len, sizeof(chunk)));
}

static ssize_t hs_core_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)
{
	struct hs_core_file *f = file->private_data;
	struct hs_core_dev *cdev = f->cdev;
	char chunk[HS_CORE_CHUNK];
	size_t len = min(count, sizeof(chunk));
	ssize_t ret;
	int idx;

	if (READ_ONCE(cdev->dead)) /* a zombie says ENODEV, whatever the buffer */
		return -ENODEV;
	if (copy_from_user(chunk, buf, len))
		return -EFAULT;
	idx = srcu_read_lock(&cdev->srcu);
	if (READ_ONCE(cdev->dead)) /* the check that counts: inside the section */
		ret = -ENODEV;
	else
		ret = cdev->ops->write(cdev->drv, f->priv, chunk, len);
	srcu_read_unlock(&cdev->srcu, idx);
	return ret;
}

static const struct file_operations hs_core_fops = {
	.owner = THIS_MODULE, /* hs_core: open files pin the core, never the driver */
	.open = hs_core_open,
	.release = hs_core_release,
	.read = hs_core_read,
	.write = hs_core_write,
};

struct hs_core_dev *hs_core_register(struct device *parent, const char *name,
				     const struct hs_core_ops *ops, void *drv)
{
	struct hs_core_dev *cdev;
	int ret;

	cdev = kzalloc(sizeof(*cdev), GFP_KERNEL);
	if (!cdev)
		return ERR_PTR(-ENOMEM);
	ret = init_srcu_struct(&cdev->srcu);
	if (ret) {
		kfree(cdev);
		return ERR_PTR(ret);
	}
	kref_init(&cdev->ref);
	cdev->ops = ops;
	cdev->drv = drv;
	mutex_init(&cdev->lock);
	INIT_LIST_HEAD(&cdev->files);
	strscpy(cdev->name, name, sizeof(cdev->name));
	cdev->misc.minor = MISC_DYNAMIC_MINOR;
	cdev->misc.name = cdev->name;
	cdev->misc.fops = &hs_core_fops;
	cdev->misc.parent = parent;
	cdev->misc.mode = 0666;

	ret = misc_register(&cdev->misc); /* the node appears: opens may start */
	if (ret) {
		kref_put(&cdev->ref, hs_core_dev_free);
		return ERR_PTR(ret);
	}
	return cdev;
}
EXPORT_SYMBOL_GPL(hs_core_register);

void hs_core_unregister(struct hs_core_dev *cdev)
{
	struct hs_core_file *f, *tmp;
	unsigned int n = 0;

	/* 1. Fence, part one: every call into the driver that starts from now on sees dead. */
	WRITE_ONCE(cdev->dead, true);
	/* 2. Fence, part two: every call that started before has returned once this does. */
	synchronize_srcu_expedited(&cdev->srcu);
	/*
	 * 3. Revoke: the driver releases its per-file state for every file still open. Those
	 *    files become zombies owned by the core alone; their release() will not call the
	 *    driver (they are off the list).
	 */
	mutex_lock(&cdev->lock);
	list_for_each_entry_safe(f, tmp, &cdev->files, node) {
		list_del_init(&f->node);
		cdev->ops->release(cdev->drv, f->priv);
		n++;
	}
	mutex_unlock(&cdev->lock);
	/* 4. The node goes (waits for an open in progress, which fails with ENODEV). */
	misc_deregister(&cdev->misc);
	pr_info("hs_core: %s unregistered: driver fenced, %u open file(s) revoked (ENODEV)\n",
		cdev->name, n);
	/* From here the driver's code and data may go; zombies only use cdev and this module. */
	kref_put(&cdev->ref, hs_core_dev_free);
}
EXPORT_SYMBOL_GPL(hs_core_unregister);

static int __init hs_core_init(void)
{
	return 0;
}

static void __exit hs_core_exit(void)
{
	/* Nothing left: a registered driver or an open file keeps this module loaded. */
}

module_init(hs_core_init);
module_exit(hs_core_exit);
MODULE_DESCRIPTION("hotswap lab core: owns the device node, fences the driver on unregister");
MODULE_VERSION("1.0");
MODULE_LICENSE("GPL");
