// SPDX-License-Identifier: GPL-2.0
/*
 * hs_lab: the lab's platform driver for the "hs_lab" device (created by hs_pdev). It exposes
 * /dev/hs_lab<id>, a misc device whose file_operations THIS module owns (like virtio_console
 * or any misc driver). read() returns a status line naming the version, write() accepts bytes.
 *
 * The load-time parameter mode= picks what remove() (an unbind) does with files still open:
 *
 *   mode=revoke  remove() marks the device dead, waits for the read()/write() calls already
 *                running to leave (SRCU), removes the node and returns at once. The open files
 *                stay open as zombies: every read()/write()/open() on them fails with ENODEV.
 *   mode=wait    remove() removes the node (no new opens), then sleeps, uninterruptibly, until
 *                the last open file is closed: the unbind write blocks in the kernel. The open
 *                files keep working meanwhile.
 *
 * Who holds which reference:
 *   - Each open file pins this MODULE. misc_open() does fops_get(&hs_fops), a reference on
 *     hs_fops.owner == THIS_MODULE, which __fput() drops only after ->release() returned. So
 *     rmmod/modprobe -r fail ("Module hs_lab is in use") while any file is open, zombie or
 *     not, and the code a zombie's read()/release() runs cannot be unloaded under it.
 *   - Each open file holds a kref on its struct hs_dev, and probe() holds one that remove()
 *     drops: a zombie can still read dev->dead after remove() returned, and whoever drops the
 *     last reference (remove() or the last release()) frees the struct.
 *   - struct hs_hw (see hs_hw.h) is devm memory, freed by the driver core right after remove()
 *     returns; only callers that saw dev->dead == false inside an SRCU section touch it.
 *
 * The version comes from hs_version.h, a header build.sh writes into each build's own copy of
 * the sources, so that both `version` and `srcversion` differ between builds.
 */
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "hs_hw.h"

enum hs_mode { HS_MODE_REVOKE, HS_MODE_WAIT };
static const char *const hs_mode_names[] = {
	[HS_MODE_REVOKE] = "revoke",
	[HS_MODE_WAIT] = "wait",
};
static enum hs_mode hs_mode = HS_MODE_REVOKE;

static int hs_mode_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(hs_mode_names, val);

	if (i < 0)
		return -EINVAL;
	hs_mode = i;
	return 0;
}

static int hs_mode_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%s\n", hs_mode_names[hs_mode]);
}

static const struct kernel_param_ops hs_mode_ops = {
	.set = hs_mode_set,
	.get = hs_mode_get,
};
/* 0444: set at load time only; each device also keeps the mode it was probed with. */
module_param_cb(mode, &hs_mode_ops, NULL, 0444);
MODULE_PARM_DESC(mode, "what unbind does with open files: revoke (default) or wait");

struct hs_dev {
	struct kref ref; /* probe()'s, dropped by remove(), + one per open file */
	enum hs_mode mode;
	struct hs_hw *hw; /* devm: gone right after remove() returns */

	/*
	 * read()/write() run inside an SRCU read-side section and check `dead` first; remove()
	 * sets `dead`, then synchronize_srcu(): when that returns, every call that could have
	 * seen dead == false has left, and every later call sees dead == true (the grace-period
	 * guarantee), so nothing touches hw once remove() returns. SRCU rather than RCU because
	 * the sections sleep (hw->lock); SRCU rather than a lock of our own because callers never
	 * wait for each other here, and remove() waits only for the callers already inside, never
	 * for new ones. remove() uses the expedited grace period: a normal one waits whole jiffies
	 * between its phases (4-18 ms measured under QEMU), during which the holders already get
	 * ENODEV while the unbind has not returned; an unbind is rare, and whoever wrote it (an
	 * administrator, the agent, whose recovery clock starts when it returns) waits on it.
	 */
	struct srcu_struct srcu;

	spinlock_t lock; /* protects dead and nopen */
	bool dead; /* revoked: read under SRCU with READ_ONCE, written under lock */
	unsigned int nopen; /* files open on this device, zombies included */
	wait_queue_head_t all_closed; /* mode=wait: remove() sleeps here until nopen == 0 */

	char name[16];
	struct miscdevice misc;
};

static void hs_dev_free(struct kref *ref)
{
	struct hs_dev *dev = container_of(ref, struct hs_dev, ref);

	/* No reader is left: the last file is closed and remove() has run. */
	cleanup_srcu_struct(&dev->srcu);
	kfree(dev);
}

static int hs_open(struct inode *inode, struct file *file)
{
	/*
	 * misc_open() stored our miscdevice in private_data and calls us holding misc_mtx, which
	 * misc_deregister() also takes: remove() cannot get past misc_deregister(), and so cannot
	 * drop probe()'s reference, while we run. dev is alive here.
	 */
	struct hs_dev *dev = container_of(file->private_data, struct hs_dev, misc);

	spin_lock(&dev->lock);
	if (dev->dead) { /* between remove()'s revoke and misc_deregister() */
		spin_unlock(&dev->lock);
		return -ENODEV;
	}
	dev->nopen++;
	kref_get(&dev->ref);
	spin_unlock(&dev->lock);
	file->private_data = dev;
	return 0;
}

static int hs_release(struct inode *inode, struct file *file)
{
	struct hs_dev *dev = file->private_data;

	spin_lock(&dev->lock);
	dev->nopen--;
	spin_unlock(&dev->lock);
	wake_up(&dev->all_closed); /* dev is alive: we still hold our reference */
	kref_put(&dev->ref, hs_dev_free);
	return 0;
}

static ssize_t hs_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	struct hs_dev *dev = file->private_data;
	char status[HS_HW_CHUNK];
	size_t len;
	int idx;

	idx = srcu_read_lock(&dev->srcu);
	if (READ_ONCE(dev->dead)) {
		srcu_read_unlock(&dev->srcu, idx);
		return -ENODEV;
	}
	len = hs_hw_status(dev->hw, status);
	srcu_read_unlock(&dev->srcu, idx);
	/* To user space outside the section: see hs_hw.h. */
	return simple_read_from_buffer(buf, count, ppos, status, len);
}

static ssize_t hs_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)
{
	struct hs_dev *dev = file->private_data;
	char chunk[HS_HW_CHUNK];
	size_t len = min(count, sizeof(chunk));
	int idx;

	if (READ_ONCE(dev->dead)) /* a zombie says ENODEV, whatever the buffer */
		return -ENODEV;
	if (copy_from_user(chunk, buf, len))
		return -EFAULT;
	idx = srcu_read_lock(&dev->srcu);
	if (READ_ONCE(dev->dead)) { /* the check that counts: inside the section */
		srcu_read_unlock(&dev->srcu, idx);
		return -ENODEV;
	}
	hs_hw_feed(dev->hw, chunk, len);
	srcu_read_unlock(&dev->srcu, idx);
	return len;
}

static const struct file_operations hs_fops = {
	.owner = THIS_MODULE, /* each open file pins this module: see the top of the file */
	.open = hs_open,
	.release = hs_release,
	.read = hs_read,
	.write = hs_write,
};

static int hs_probe(struct platform_device *pdev)
{
	struct hs_dev *dev;
	int ret;

	/* kzalloc, not devm: zombie files use dev after remove() returned. */
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->mode = hs_mode;
	dev->hw = hs_hw_create(pdev, hs_mode_names[dev->mode]);
	if (!dev->hw) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = init_srcu_struct(&dev->srcu);
	if (ret)
		goto err_free;
	kref_init(&dev->ref);
	spin_lock_init(&dev->lock);
	init_waitqueue_head(&dev->all_closed);
	snprintf(dev->name, sizeof(dev->name), "hs_lab%d", pdev->id < 0 ? 0 : pdev->id);
	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.name = dev->name;
	dev->misc.fops = &hs_fops;
	dev->misc.parent = &pdev->dev;
	dev->misc.mode = 0666;
	platform_set_drvdata(pdev, dev);

	/* The node appears here: everything open() and read() need is set up above. */
	ret = misc_register(&dev->misc);
	if (ret)
		goto err_srcu;
	dev_info(&pdev->dev, "version %s, mode=%s, /dev/%s (10:%d)\n", HS_LAB_VERSION,
		 hs_mode_names[dev->mode], dev->name, dev->misc.minor);
	return 0;

err_srcu:
	cleanup_srcu_struct(&dev->srcu);
err_free:
	kfree(dev);
	return ret;
}

static void hs_remove(struct platform_device *pdev)
{
	struct hs_dev *dev = platform_get_drvdata(pdev);
	ktime_t start = ktime_get();
	unsigned int nopen;

	if (dev->mode == HS_MODE_WAIT) {
		/*
		 * Remove the node first so that no new open can start (misc_deregister() waits
		 * for an open in progress, under misc_mtx); from then on nopen only goes down.
		 * Then sleep until it reaches 0. Uninterruptible, like the subsystems that wait:
		 * the process writing to unbind is stuck in D state until the holders close (or
		 * die), and the device lock is held all along.
		 */
		misc_deregister(&dev->misc);
		spin_lock(&dev->lock);
		nopen = dev->nopen;
		spin_unlock(&dev->lock);
		if (nopen)
			dev_info(&pdev->dev, "unbind: waiting for %u open file(s) to close\n", nopen);
		wait_event(dev->all_closed, READ_ONCE(dev->nopen) == 0);
		dev_info(&pdev->dev, "unbind: done after %lld ms (waited for %u file(s))\n",
			 ktime_ms_delta(ktime_get(), start), nopen);
	} else {
		/* Revoke: new opens and calls fail from here on... */
		spin_lock(&dev->lock);
		WRITE_ONCE(dev->dead, true);
		nopen = dev->nopen;
		spin_unlock(&dev->lock);
		/* ...and the calls already running have returned once this does. */
		synchronize_srcu_expedited(&dev->srcu);
		misc_deregister(&dev->misc);
		dev_info(&pdev->dev, "unbind: revoked %u open file(s) in %lld ms; they fail with ENODEV\n",
			 nopen, ktime_ms_delta(ktime_get(), start));
	}
	/* devm frees dev->hw after we return; zombies never touch it (they see dead). */
	kref_put(&dev->ref, hs_dev_free);
}

static struct platform_driver hs_driver = {
	.probe = hs_probe,
	.remove_new = hs_remove,
	.driver = { .name = "hs_lab" },
};
module_platform_driver(hs_driver);

MODULE_DESCRIPTION("hotswap lab driver: a misc device that revokes or waits on unbind");
MODULE_VERSION(HS_LAB_VERSION);
MODULE_LICENSE("GPL");
