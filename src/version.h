/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The tool's version, reported by --version and in every JSON report. */
#ifndef VD_VERSION_H
#define VD_VERSION_H
#define VIRT_DOCTOR_VERSION "0.1.0"
#endif
