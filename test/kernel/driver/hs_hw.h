/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "hardware" of the lab device, shared by both hs_lab builds (hs_lab.c, hs_lab_fenced.c).
 *
 * It is allocated with devm_kzalloc() in probe(), so the driver core frees it right AFTER
 * remove() returns, exactly like the MMIO mappings, IRQs and DMA buffers of a real device.
 * Any read()/write() that touched it after remove() would be a use-after-free: that is what the
 * revoke (hs_lab.c) and fence (hs_core.c) logic must rule out. Access to it may sleep (a mutex
 * serializes the "registers", as many drivers do), which is why the sections that use it are
 * SRCU and not plain RCU read-side sections.
 *
 * Callers copy from/to user space OUTSIDE those sections, through a small kernel buffer: a
 * user page that faults slowly (userfaultfd, FUSE-backed mmap) must not be able to stall
 * remove(), which waits for every section in flight.
 */
#ifndef HS_HW_H
#define HS_HW_H

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/string.h>

#include "hs_version.h" /* generated per build by build.sh: HS_LAB_VERSION */

#define HS_HW_CHUNK 64 /* the most one read()/write() moves: short reads/writes beyond */

struct hs_hw {
	struct mutex lock; /* serializes access to the fields below; sleeps */
	u64 bytes_written;
	size_t status_len;
	char status[HS_HW_CHUNK]; /* what read() returns: "hs_lab version=1.0 mode=revoke\n" */
};

static inline struct hs_hw *hs_hw_create(struct platform_device *pdev, const char *mode)
{
	struct hs_hw *hw = devm_kzalloc(&pdev->dev, sizeof(*hw), GFP_KERNEL);

	if (!hw)
		return NULL;
	mutex_init(&hw->lock);
	hw->status_len = scnprintf(hw->status, sizeof(hw->status), "hs_lab version=%s mode=%s\n",
				   HS_LAB_VERSION, mode);
	return hw;
}

/* Copies the device's status line into buf (HS_HW_CHUNK bytes); returns its length. */
static inline size_t hs_hw_status(struct hs_hw *hw, char *buf)
{
	size_t len;

	mutex_lock(&hw->lock);
	len = hw->status_len;
	memcpy(buf, hw->status, len);
	mutex_unlock(&hw->lock);
	return len;
}

/* Hands len (<= HS_HW_CHUNK) bytes to the device, which counts and discards them. */
static inline void hs_hw_feed(struct hs_hw *hw, const char *buf, size_t len)
{
	mutex_lock(&hw->lock);
	hw->bytes_written += len;
	mutex_unlock(&hw->lock);
}

#endif /* HS_HW_H */
