// SPDX-License-Identifier: GPL-2.0-or-later
/* The table of checks, in the order a doctor runs them: cheap facts first, proof last. */
#include "checks/check.h"
#include "util.h"

extern const struct check check_host_os, check_cpu_virt_extensions, check_kvm_modules,
	check_kvm_device, check_kvm_api, check_iommu_groups, check_vm_smoke_boot;
extern const struct check check_net_default_network, check_net_ip_forward, check_net_tun,
	check_net_vhost_net, check_net_bridge_netfilter;
extern const struct check check_libvirt_daemon, check_libvirt_helpers;
extern const struct check check_host_hypervisor, check_host_resources, check_cpu_nested,
	check_user_groups, check_emulator_qemu, check_cpu_guest_model;

const struct check *const checks[] = {
	&check_host_os,
	&check_host_hypervisor,
	&check_host_resources,
	&check_cpu_virt_extensions,
	&check_cpu_nested,
	&check_kvm_modules,
	&check_kvm_device,
	&check_kvm_api,
	&check_user_groups,
	&check_emulator_qemu,
	&check_cpu_guest_model,
	&check_libvirt_daemon,
	&check_libvirt_helpers,
	&check_net_default_network,
	&check_net_ip_forward,
	&check_net_tun,
	&check_net_vhost_net,
	&check_net_bridge_netfilter,
	&check_iommu_groups,
	&check_vm_smoke_boot,
};
const unsigned n_checks = ARRAY_SIZE(checks);

const struct check *check_find(const char *id)
{
	for (unsigned i = 0; i < n_checks; i++)
		if (streq(checks[i]->id, id))
			return checks[i];
	return NULL;
}
