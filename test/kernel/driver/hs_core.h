/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hs_core: the lab's "subsystem" module. It owns the character device and its file_operations
 * and calls into a driver through this ops table, as the RDMA core does for mlx5_ib. See
 * hs_core.c for the fencing rules.
 */
#ifndef HS_CORE_H
#define HS_CORE_H

#include <linux/device.h>
#include <linux/fs.h>

/* The most one read()/write() moves between user space and the driver. */
#define HS_CORE_CHUNK 64

/*
 * Driver callbacks, all in process context and allowed to sleep. `drv` is what the driver
 * passed to hs_core_register(); `priv` is what its open() stored for one open file. Buffers
 * are kernel memory: the core copies from/to user space itself, outside the fenced section,
 * so that a slow page fault cannot hold up unregister. The core never calls any of them after
 * hs_core_unregister() has returned, and calls release() exactly once for every successful
 * open(): when the file is closed, or, for files still open at unregister, during unregister.
 */
struct hs_core_ops {
	int (*open)(void *drv, void **priv);
	void (*release)(void *drv, void *priv);
	/* Fills buf (HS_CORE_CHUNK bytes) with the device's content; returns its length. */
	ssize_t (*read)(void *drv, void *priv, char *buf);
	/* Takes len (<= HS_CORE_CHUNK) bytes; returns how many it took, or an errno. */
	ssize_t (*write)(void *drv, void *priv, const char *buf, size_t len);
};

struct hs_core_dev;

/* Creates /dev/<name> (parent: the driver's device). Returns an ERR_PTR on failure. */
struct hs_core_dev *hs_core_register(struct device *parent, const char *name,
				     const struct hs_core_ops *ops, void *drv);

/*
 * Fences the driver and revokes the open files: when this returns, no callback is running or
 * will ever run again, the driver's per-file state is released, and the node is gone. Files
 * still open are zombies owned by the core (every call fails with ENODEV); they pin hs_core,
 * not the driver, which may then be unloaded. Sleeps; call it from the driver's remove().
 */
void hs_core_unregister(struct hs_core_dev *cdev);

#endif /* HS_CORE_H */
