// SPDX-License-Identifier: GPL-2.0
/*
 * hs_lab, fenced build (mode=fenced): the same platform driver for the "hs_lab" device, but
 * the node /dev/hs_lab<id> and its file_operations belong to hs_core; this module only
 * provides callbacks (struct hs_core_ops), like an RDMA driver under the RDMA core. Built as
 * a module named hs_lab (Kbuild: hs_lab-y := hs_lab_fenced.o), so a swap between versions of
 * this build looks the same to the agent as one between versions of hs_lab.c.
 *
 * remove() calls hs_core_unregister(), which fences every callback and releases our per-file
 * state for the files still open. When it returns nothing of ours can run again, so devm may
 * free our data and `rmmod hs_lab` may unload this module even though zombie files are still
 * open: they pin hs_core only. The module depends on hs_core (symbols), so hs_core must be
 * loaded first (modprobe does it; insmod does not).
 */
#include <linux/atomic.h>
#include <linux/build_bug.h>
#include <linux/err.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "hs_core.h"
#include "hs_hw.h"

/* Only "fenced": the parameter exists so that /sys/module/hs_lab/parameters/mode names it. */
static char *mode = "fenced";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "fenced (the only mode of this build)");

struct hs_fdev {
	struct hs_hw *hw;
	struct hs_core_dev *core;
	atomic_t nopen; /* per-file states we hold */
	atomic_t opens; /* opens so far: numbers the per-file states */
	char name[16];
};

/*
 * Per-open-file state: what a real driver allocates per context (queues, mappings). The core
 * releases it exactly once, at close or at unregister; it is immutable after open().
 */
struct hs_ffile {
	int serial;
};

static int hs_f_open(void *drv, void **priv)
{
	struct hs_fdev *fdev = drv;
	struct hs_ffile *ff = kzalloc(sizeof(*ff), GFP_KERNEL);

	if (!ff)
		return -ENOMEM;
	ff->serial = atomic_inc_return(&fdev->opens);
	atomic_inc(&fdev->nopen);
	*priv = ff;
	return 0;
}

static void hs_f_release(void *drv, void *priv)
{
	struct hs_fdev *fdev = drv;

	kfree(priv);
	atomic_dec(&fdev->nopen);
}

static ssize_t hs_f_read(void *drv, void *priv, char *buf)
{
	struct hs_fdev *fdev = drv;

	BUILD_BUG_ON(HS_HW_CHUNK > HS_CORE_CHUNK);
	return hs_hw_status(fdev->hw, buf);
}

static ssize_t hs_f_write(void *drv, void *priv, const char *buf, size_t len)
{
	struct hs_fdev *fdev = drv;

	len = min_t(size_t, len, HS_HW_CHUNK);
	hs_hw_feed(fdev->hw, buf, len);
	return len;
}

static const struct hs_core_ops hs_f_ops = {
	.open = hs_f_open,
	.release = hs_f_release,
	.read = hs_f_read,
	.write = hs_f_write,
};

static int hs_f_probe(struct platform_device *pdev)
{
	struct hs_fdev *fdev;

	/* devm is safe here: after hs_core_unregister() nothing uses fdev or hw. */
	fdev = devm_kzalloc(&pdev->dev, sizeof(*fdev), GFP_KERNEL);
	if (!fdev)
		return -ENOMEM;
	fdev->hw = hs_hw_create(pdev, "fenced");
	if (!fdev->hw)
		return -ENOMEM;
	snprintf(fdev->name, sizeof(fdev->name), "hs_lab%d", pdev->id < 0 ? 0 : pdev->id);
	platform_set_drvdata(pdev, fdev);
	/* The node appears inside: fdev must be complete before this call. */
	fdev->core = hs_core_register(&pdev->dev, fdev->name, &hs_f_ops, fdev);
	if (IS_ERR(fdev->core))
		return PTR_ERR(fdev->core);
	dev_info(&pdev->dev, "version %s, mode=fenced, /dev/%s owned by hs_core\n", HS_LAB_VERSION,
		 fdev->name);
	return 0;
}

static void hs_f_remove(struct platform_device *pdev)
{
	struct hs_fdev *fdev = platform_get_drvdata(pdev);

	hs_core_unregister(fdev->core);
	/* Fenced: no callback runs any more, and the core released every per-file state. */
	WARN_ON(atomic_read(&fdev->nopen) != 0);
	dev_info(&pdev->dev, "unbind: fenced by hs_core; this module can be unloaded\n");
}

static struct platform_driver hs_f_driver = {
	.probe = hs_f_probe,
	.remove_new = hs_f_remove,
	.driver = { .name = "hs_lab" },
};

static int __init hs_f_init(void)
{
	if (strcmp(mode, "fenced") != 0) {
		pr_err("hs_lab: this build only supports mode=fenced, not mode=%s\n", mode);
		return -EINVAL;
	}
	return platform_driver_register(&hs_f_driver);
}

static void __exit hs_f_exit(void)
{
	platform_driver_unregister(&hs_f_driver);
}

module_init(hs_f_init);
module_exit(hs_f_exit);
MODULE_DESCRIPTION("hotswap lab driver, fenced build: callbacks under hs_core");
MODULE_VERSION(HS_LAB_VERSION);
MODULE_LICENSE("GPL");
