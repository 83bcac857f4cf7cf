/* SPDX-License-Identifier: GPL-2.0-or-later */
/* __attribute__((cleanup)) helpers for libudev objects, shared by the checks that use it. */
#ifndef VD_UDEV_CLEANUP_H
#define VD_UDEV_CLEANUP_H

#include <libudev.h>

static inline void udevp(struct udev **u)
{
	if (*u)
		udev_unref(*u);
}

static inline void udev_devicep(struct udev_device **d)
{
	if (*d)
		udev_device_unref(*d);
}

static inline void udev_enumeratep(struct udev_enumerate **e)
{
	if (*e)
		udev_enumerate_unref(*e);
}

#endif
