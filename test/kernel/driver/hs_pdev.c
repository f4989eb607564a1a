// SPDX-License-Identifier: GPL-2.0
/*
 * hs_pdev: registers the platform device "hs_lab" (id 0, sysfs name hs_lab.0) and nothing
 * else. It lives in its own module so that the device outlives the driver module: unloading
 * hs_lab and loading another version leaves the device in place, the new version probes it on
 * load, and /sys/bus/platform/drivers/hs_lab/{unbind,bind} keep meaning the same device across
 * versions, as a PCI device does on a real host. This module is never swapped.
 */
#include <linux/err.h>
#include <linux/module.h>
#include <linux/platform_device.h>

static struct platform_device *hs_pdev;

static int __init hs_pdev_init(void)
{
	hs_pdev = platform_device_register_simple("hs_lab", 0, NULL, 0);
	return PTR_ERR_OR_ZERO(hs_pdev);
}

static void __exit hs_pdev_exit(void)
{
	/* Unbinds the driver first if one is bound (its remove() runs here). */
	platform_device_unregister(hs_pdev);
}

module_init(hs_pdev_init);
module_exit(hs_pdev_exit);
MODULE_DESCRIPTION("hotswap lab: the hs_lab platform device");
MODULE_VERSION("1.0");
MODULE_LICENSE("GPL");
