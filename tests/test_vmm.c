// SPDX-License-Identifier: GPL-2.0-or-later
/* Tests for the VMM: pure decoder/exit-table units, then real-KVM boots of good and hostile guests. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../src/vmm/internal.h"

#ifndef PAYLOAD_DIR
#define PAYLOAD_DIR "build/tests/payloads"
#endif
#define HOSTILE_TIMEOUT_MS 1500

/* ---- report protocol decoder (no KVM) ---- */

static int ctl(struct rc_state *st, unsigned cmd, unsigned arg, struct rc_event *ev, char *why)
{
	return rc_decode(st, VD_PORT_CTL, true, 2, cmd | arg << 8, ev, why, 160);
}

static void test_rc_in_order(void **state)
{
	struct rc_state st;
	struct rc_event ev;
	char why[160];

	(void)state;
	rc_init(&st, true, VD_STAGE_LAST);
	assert_int_equal(ctl(&st, VD_CMD_BEGIN, 1, &ev, why), 0);
	assert_int_equal(ev.type, RC_EV_BEGIN);
	assert_int_equal(ev.stage, 1);
	assert_int_equal(rc_decode(&st, VD_PORT_DATA, true, 4, 0x1234, &ev, why, sizeof(why)), 0);
	assert_int_equal(ev.type, RC_EV_VALUE);
	assert_int_equal(st.values[0], 0x1234);
	assert_int_equal(ctl(&st, VD_CMD_END, 1, &ev, why), 0);
	assert_int_equal(ev.type, RC_EV_END);
	assert_int_equal(st.next, 2);
	/* Skipping ahead is refused. */
	assert_int_equal(ctl(&st, VD_CMD_BEGIN, 3, &ev, why), -EPROTO);
	assert_non_null(strstr(why, "out of order"));
}

static void test_rc_garbage(void **state)
{
	struct rc_state st;
	struct rc_event ev;
	char why[160];

	(void)state;
	rc_init(&st, true, VD_STAGE_LAST);
	assert_int_equal(rc_decode(&st, VD_PORT_CTL, true, 1, 0xa5, &ev, why, sizeof(why)), -EPROTO);
	assert_int_equal(rc_decode(&st, VD_PORT_CTL, false, 2, 0, &ev, why, sizeof(why)), -EPROTO);
	assert_int_equal(rc_decode(&st, VD_PORT_DATA, true, 4, 1, &ev, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "outside a stage"));
	assert_int_equal(rc_decode(&st, VD_PORT_DATA, true, 2, 1, &ev, why, sizeof(why)), -EPROTO);
	assert_int_equal(rc_decode(&st, 0x1234, true, 2, 1, &ev, why, sizeof(why)), -EPROTO);
	assert_int_equal(ctl(&st, 0xee, 0, &ev, why), -EPROTO);
	assert_non_null(strstr(why, "unknown report command"));
	assert_int_equal(ctl(&st, VD_CMD_END, 1, &ev, why), -EPROTO);
	assert_int_equal(ctl(&st, VD_CMD_CHECKIN, 0, &ev, why), -EPROTO);
	assert_int_equal(ctl(&st, VD_CMD_CHECKIN, 200, &ev, why), -EPROTO);
	/* done is only legal inside the last stage */
	assert_int_equal(ctl(&st, VD_CMD_DONE, 0, &ev, why), -EPROTO);
	/* a value flood inside a stage is bounded */
	assert_int_equal(ctl(&st, VD_CMD_BEGIN, 1, &ev, why), 0);
	for (int i = 0; i < VD_MAX_VALUES; i++)
		assert_int_equal(rc_decode(&st, VD_PORT_DATA, true, 4, i, &ev, why, sizeof(why)), 0);
	assert_int_equal(rc_decode(&st, VD_PORT_DATA, true, 4, 9, &ev, why, sizeof(why)), -EPROTO);
}

static void test_rc_flood_and_done(void **state)
{
	struct rc_state st;
	struct rc_event ev;
	char why[160];
	int r = 0;

	(void)state;
	rc_init(&st, true, VD_STAGE_LAST);
	for (int i = 0; i < 5000 && !r; i++)
		r = ctl(&st, VD_CMD_TICK, 0, &ev, why);
	assert_int_equal(r, -EMLINK);

	rc_init(&st, true, 1);
	assert_int_equal(ctl(&st, VD_CMD_BEGIN, 1, &ev, why), 0);
	assert_int_equal(ctl(&st, VD_CMD_DONE, 0, &ev, why), 0);
	assert_int_equal(ev.type, RC_EV_DONE);
	assert_int_equal(ctl(&st, VD_CMD_TICK, 0, &ev, why), -EPROTO);
	assert_non_null(strstr(why, "after done"));
}

static void test_rc_payload_mode(void **state)
{
	struct rc_state st;
	struct rc_event ev;
	char why[160];

	(void)state;
	rc_init(&st, false, 0);
	assert_int_equal(ctl(&st, VD_CMD_BEGIN, 1, &ev, why), -EPROTO);
	assert_int_equal(ctl(&st, VD_CMD_FAIL, 7, &ev, why), 0);
	assert_int_equal(ev.type, RC_EV_FAIL);
	assert_int_equal(ev.arg, 7);
	assert_int_equal(ctl(&st, VD_CMD_DONE, 0, &ev, why), 0);
	assert_int_equal(ev.type, RC_EV_DONE);
}

/* ---- exit-reason table (no KVM) ---- */

static void test_exit_table(void **state)
{
	struct kvm_run run;
	char buf[160];

	(void)state;
	assert_string_equal(vmm_exit_name(KVM_EXIT_IO), "IO");
	assert_string_equal(vmm_exit_name(KVM_EXIT_SHUTDOWN), "SHUTDOWN");
	assert_string_equal(vmm_exit_name(KVM_EXIT_INTERNAL_ERROR), "INTERNAL_ERROR");
	assert_null(vmm_exit_name(9999));

	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_SHUTDOWN;
	assert_int_equal(vmm_exit_describe(&run, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "triple fault"));

	run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run.internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	vmm_exit_describe(&run, buf, sizeof(buf));
	assert_non_null(strstr(buf, "emulation failure"));
	assert_string_equal(vmm_internal_suberror_name(77), "unknown suberror");

	run.exit_reason = KVM_EXIT_FAIL_ENTRY;
	run.fail_entry.hardware_entry_failure_reason = 0x21;
	vmm_exit_describe(&run, buf, sizeof(buf));
	assert_non_null(strstr(buf, "hardware reason 0x21"));

	run.exit_reason = KVM_EXIT_HLT;
	vmm_exit_describe(&run, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HLT"));

	run.exit_reason = 9999;
	assert_int_equal(vmm_exit_describe(&run, buf, sizeof(buf)), -ENOENT);
}

static void test_names_and_options(void **state)
{
	struct vmm_options o;
	struct vmm_report r;

	(void)state;
	assert_string_equal(vmm_stage_status_name(VMM_STAGE_NOT_RUN), "not-run");
	assert_string_equal(vmm_outcome_name(VMM_OUTCOME_SECCOMP_KILLED), "seccomp-killed");
	vmm_options_default(&o);
	assert_int_equal(o.vcpus, 2);
	assert_int_equal(o.memory_mib, 16);
	assert_int_equal(o.timeout_ms, 5000);
	assert_string_equal(o.kvm_path, "/dev/kvm");
	o.vcpus = 0;
	assert_int_equal(vmm_smoke_boot(&o, &r), -EINVAL);
	vmm_options_default(&o);
	o.memory_mib = 1;
	assert_int_equal(vmm_smoke_boot(&o, &r), -EINVAL);
	vmm_options_default(&o);
	o.payload_path = "/nonexistent/payload.bin";
	assert_int_equal(vmm_smoke_boot(&o, &r), -ENOENT);
	o.payload_path = "/dev/null";		/* empty */
	assert_int_equal(vmm_smoke_boot(&o, &r), -EINVAL);
}

/* ---- real KVM ---- */

static bool have_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

#define NEED_KVM() do { if (!have_kvm()) { print_message("SKIP: /dev/kvm cannot be opened\n"); skip(); } } while (0)

static void boot(const char *payload, unsigned timeout_ms, struct vmm_report *r)
{
	struct vmm_options o;
	char path[512];

	vmm_options_default(&o);
	if (payload) {
		snprintf(path, sizeof(path), "%s/%s.bin", PAYLOAD_DIR, payload);
		o.payload_path = path;
	}
	if (timeout_ms)
		o.timeout_ms = timeout_ms;
	assert_int_equal(vmm_smoke_boot(&o, r), 0);
	/* Every hostile guest must end inside the watchdog, plus scheduling slack. */
	assert_true(r->total_us < (uint64_t)o.timeout_ms * 1000 + 500000);
}

static const struct vmm_stage *stage(const struct vmm_report *r, const char *name)
{
	for (size_t i = 0; i < r->n_stages; i++)
		if (!strcmp(r->stages[i].name, name))
			return &r->stages[i];
	fail_msg("no stage %s", name);
	return NULL;
}

static void dump(const struct vmm_report *r)
{
	print_message("  outcome %s: %s\n", vmm_outcome_name(r->outcome), r->message);
	for (size_t i = 0; i < r->n_stages; i++)
		print_message("  %-12s %-11s %8llu us  %s\n", r->stages[i].name,
			      vmm_stage_status_name(r->stages[i].status),
			      (unsigned long long)r->stages[i].us, r->stages[i].detail);
}

static void test_builtin_guest(void **state)
{
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	boot(NULL, 0, &r);
	dump(&r);
	assert_int_equal(r.outcome, VMM_OUTCOME_OK);
	assert_int_equal(r.n_stages, VMM_SMOKE_N_STAGES);
	for (size_t i = 0; i < r.n_stages; i++) {
		/* unsupported is only acceptable with the failing instruction as evidence */
		if (r.stages[i].status == VMM_STAGE_UNSUPPORTED)
			assert_non_null(strstr(r.stages[i].detail, "insn bytes"));
		else
			assert_int_equal(r.stages[i].status, VMM_STAGE_PASS);
	}
	assert_true(r.exits > 0);
	assert_true(r.first_insn_us > 0);
	assert_true(r.child_peak_rss_kib > 0);
	assert_string_equal(r.stage_running, "");
}

static void test_one_vcpu(void **state)
{
	struct vmm_options o;
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	vmm_options_default(&o);
	o.vcpus = 1;
	o.memory_mib = 4;
	assert_int_equal(vmm_smoke_boot(&o, &r), 0);
	if (r.outcome != VMM_OUTCOME_OK)
		dump(&r);
	assert_int_equal(r.outcome, VMM_OUTCOME_OK);
	assert_int_equal(stage(&r, "second_vcpu")->status, VMM_STAGE_NOT_RUN);
	assert_int_equal(stage(&r, "memory")->status, VMM_STAGE_PASS);
}

static void test_bad_kvm_path(void **state)
{
	struct vmm_options o;
	struct vmm_report r;

	(void)state;
	vmm_options_default(&o);
	o.kvm_path = "/nonexistent/kvm";
	assert_int_equal(vmm_smoke_boot(&o, &r), 0);
	assert_int_equal(r.outcome, VMM_OUTCOME_SETUP_FAILED);
	assert_int_equal(r.stages[0].status, VMM_STAGE_FAIL);
	assert_int_equal(stage(&r, "real_mode")->status, VMM_STAGE_NOT_RUN);
}

static void test_seccomp_kills_forbidden_syscall(void **state)
{
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	setenv("VIRT_DOCTOR_TEST_FORBIDDEN_SYSCALL", "1", 1);
	boot(NULL, HOSTILE_TIMEOUT_MS, &r);
	unsetenv("VIRT_DOCTOR_TEST_FORBIDDEN_SYSCALL");
	assert_int_equal(r.outcome, VMM_OUTCOME_SECCOMP_KILLED);
	assert_non_null(strstr(r.message, "signal 31"));
}

static void test_hostile_loop(void **state)
{
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	boot("loop", HOSTILE_TIMEOUT_MS, &r);
	assert_int_equal(r.outcome, VMM_OUTCOME_TIMEOUT);
	assert_non_null(strstr(r.message, "real_mode"));
	assert_string_equal(r.stage_running, "real_mode");
	assert_int_equal(stage(&r, "real_mode")->status, VMM_STAGE_FAIL);
	/* `jmp .`: no exit and the same registers across the watchdog's window. */
	assert_int_equal(r.timeout_progress, VMM_PROGRESS_STUCK);
	assert_non_null(strstr(r.message, "stuck"));
}

/*
 * Issue 12 item 12: a guest that is merely slow was judged "stuck in a hypercall or loop".
 * This one counts in a register for ever: at the deadline the watchdog sees it moved since its
 * sample, so the timeout says progressing, and "stuck" appears nowhere.
 */
static void test_slow_is_not_stuck(void **state)
{
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	boot("spin", HOSTILE_TIMEOUT_MS, &r);
	dump(&r);
	assert_int_equal(r.outcome, VMM_OUTCOME_TIMEOUT);
	assert_int_equal(r.timeout_progress, VMM_PROGRESS_MOVING);
	assert_non_null(strstr(r.message, "progressed in the last"));
	assert_null(strstr(r.message, "stuck"));
	assert_null(strstr(r.message, "hypercall"));
	assert_string_equal(vmm_progress_name(r.timeout_progress), "progressing");
}

static void test_hostile_vmcall(void **state)
{
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	boot("vmcall", HOSTILE_TIMEOUT_MS, &r);
	dump(&r);
	assert_int_equal(r.outcome, VMM_OUTCOME_GUEST_FAILED);
	assert_non_null(strstr(r.message, "hypercall"));
	assert_int_equal(stage(&r, "run")->status, VMM_STAGE_FAIL);
}

static void test_hostile_ud2(void **state)
{
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	boot("ud2", HOSTILE_TIMEOUT_MS, &r);
	assert_int_equal(r.outcome, VMM_OUTCOME_GUEST_FAILED);
	/* A triple fault on hardware virt; this backend may report an emulation failure. */
	assert_true(strstr(r.message, "SHUTDOWN: triple fault") || strstr(r.message, "INTERNAL_ERROR"));
}

static void test_hostile_triple(void **state)
{
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	boot("triple", HOSTILE_TIMEOUT_MS, &r);
	assert_int_equal(r.outcome, VMM_OUTCOME_GUEST_FAILED);
	assert_true(strstr(r.message, "SHUTDOWN: triple fault") || strstr(r.message, "INTERNAL_ERROR"));
	assert_non_null(strstr(r.message, "insn bytes"));
}

static void test_hostile_mmio_storm(void **state)
{
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	boot("mmio_storm", HOSTILE_TIMEOUT_MS, &r);
	assert_int_equal(r.outcome, VMM_OUTCOME_GUEST_FAILED);
	assert_non_null(strstr(r.message, "MMIO storm"));
}

static void test_hostile_garbage(void **state)
{
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	boot("garbage", HOSTILE_TIMEOUT_MS, &r);
	assert_int_equal(r.outcome, VMM_OUTCOME_GUEST_FAILED);
	assert_non_null(strstr(r.message, "protocol error"));
}

static void test_hostile_liar(void **state)
{
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	boot("liar", HOSTILE_TIMEOUT_MS, &r);
	assert_int_equal(r.outcome, VMM_OUTCOME_GUEST_FAILED);
	assert_int_equal(stage(&r, "timer_irq")->status, VMM_STAGE_FAIL);
	for (size_t i = VD_STAGE_LONG_MODE; i < r.n_stages; i++)
		assert_int_not_equal(r.stages[i].status, VMM_STAGE_PASS);
}

static void test_hostile_wild_write(void **state)
{
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	boot("wild_write", HOSTILE_TIMEOUT_MS, &r);
	assert_int_equal(r.outcome, VMM_OUTCOME_GUEST_FAILED);
	assert_non_null(strstr(r.message, "unmapped guest-physical 0x20000000"));
}

static void test_payload_done(void **state)
{
	struct vmm_report r;

	(void)state;
	NEED_KVM();
	boot("hlt", HOSTILE_TIMEOUT_MS, &r);
	assert_int_equal(r.outcome, VMM_OUTCOME_OK);
	assert_int_equal(r.n_stages, 2);
	assert_int_equal(stage(&r, "run")->status, VMM_STAGE_PASS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rc_in_order),
		cmocka_unit_test(test_rc_garbage),
		cmocka_unit_test(test_rc_flood_and_done),
		cmocka_unit_test(test_rc_payload_mode),
		cmocka_unit_test(test_exit_table),
		cmocka_unit_test(test_names_and_options),
		cmocka_unit_test(test_bad_kvm_path),
		cmocka_unit_test(test_builtin_guest),
		cmocka_unit_test(test_one_vcpu),
		cmocka_unit_test(test_seccomp_kills_forbidden_syscall),
		cmocka_unit_test(test_hostile_loop),
		cmocka_unit_test(test_slow_is_not_stuck),
		cmocka_unit_test(test_hostile_vmcall),
		cmocka_unit_test(test_hostile_ud2),
		cmocka_unit_test(test_hostile_triple),
		cmocka_unit_test(test_hostile_mmio_storm),
		cmocka_unit_test(test_hostile_garbage),
		cmocka_unit_test(test_hostile_liar),
		cmocka_unit_test(test_hostile_wild_write),
		cmocka_unit_test(test_payload_done),
	};

	return cmocka_run_group_tests_name("vmm", tests, NULL, NULL);
}
