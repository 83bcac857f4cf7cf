// SPDX-License-Identifier: GPL-2.0-or-later
/* Concurrency and faults: two doctors at once, and the VMM child never outlives an interrupted boot. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include "harness.h"
#include "spawn.h"

static bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

#define NEED_KVM() do { if (!kvm_usable()) SKIP_BECAUSE("/dev/kvm is not usable here"); } while (0)

/* Two full doctors (each boots the smoke guest) at the same time: both succeed, and agree. */
static void test_two_doctors(void **state)
{
	char *const argv[] = { (char *)VD_BIN, (char *)"--format", (char *)"json", (char *)"doctor", NULL };
	struct spawned a, b;
	json_t *ja, *jb;

	(void)state;
	NEED_KVM();
	spawn_session(&a, argv);
	spawn_session(&b, argv);
	spawn_wait(&a, 60000);
	spawn_wait(&b, 60000);
	print_message("doctor A exit %d, B exit %d\n", a.status, b.status);
	/* A verdict (0 ready, 1 degraded, 2 not ready: e.g. libvirtd stopped), never 3 or a signal. */
	assert_true(a.status <= 2 && b.status <= 2);
	assert_int_equal(a.status, b.status);
	ja = parse_json(a.out);
	jb = parse_json(b.out);
	assert_non_null(ja);
	assert_non_null(jb);
	assert_string_equal(check_status(ja, "vm.smoke_boot"), "pass");
	assert_string_equal(check_status(jb, "vm.smoke_boot"), "pass");
	assert_string_equal(json_string_value(json_object_get(ja, "verdict")),
			    json_string_value(json_object_get(jb, "verdict")));
	assert_int_equal(session_count(a.pid), 0);
	assert_int_equal(session_count(b.pid), 0);
	json_decref(ja);
	json_decref(jb);
	spawned_clear(&a);
	spawned_clear(&b);
}

/*
 * `boot --payload loop.bin` spins forever in the guest. Signal the doctor once its VMM child
 * is running the guest; after the doctor is gone nothing may remain in its session (the test
 * starts it with setsid, so the session id is the doctor's pid and catches any descendant).
 */
static void interrupt_boot(int sig)
{
	char *const argv[] = { (char *)VD_BIN, (char *)"boot", (char *)"--payload", (char *)LOOP_PAYLOAD,
			       (char *)"--timeout", (char *)"60", NULL };
	struct spawned s;
	pid_t child;

	NEED_KVM();
	spawn_session(&s, argv);
	child = wait_vmm_running(s.pid, 10000);
	assert_true(child > 0);
	assert_true(session_count(s.pid) >= 2);		/* doctor + VMM child */
	assert_int_equal(kill(s.pid, sig), 0);		/* the doctor only, not its group */
	spawn_wait(&s, 10000);
	print_message("%s: doctor status %d (128+signal when killed by it), %d left in session\n",
		      strsignal(sig), s.status, session_count(s.pid));
	assert_true(wait_session_empty(s.pid, 2000));
	assert_true(kill(child, 0) < 0 && errno == ESRCH);
	spawned_clear(&s);
}

static void test_sigint(void **state)
{
	(void)state;
	interrupt_boot(SIGINT);
}

static void test_sigterm(void **state)
{
	(void)state;
	interrupt_boot(SIGTERM);
}

static void test_sigkill(void **state)
{
	(void)state;
	interrupt_boot(SIGKILL);	/* no handler can run: PR_SET_PDEATHSIG does the work */
}

/* The watchdog path: a 1 s timeout ends the loop with outcome timeout, exit 2, nothing left. */
static void test_timeout(void **state)
{
	char *const argv[] = { (char *)VD_BIN, (char *)"--format", (char *)"json", (char *)"boot",
			       (char *)"--payload", (char *)LOOP_PAYLOAD, (char *)"--timeout", (char *)"1", NULL };
	struct spawned s;
	uint64_t t0 = now_us();
	json_t *j;

	(void)state;
	NEED_KVM();
	spawn_session(&s, argv);
	spawn_wait(&s, 10000);
	print_message("timeout run: exit %d after %llu ms\n", s.status,
		      (unsigned long long)((now_us() - t0) / 1000));
	assert_int_equal(s.status, 2);
	j = parse_json(s.out);
	assert_non_null(j);
	assert_string_equal(json_string_value(detail(j, "vm.smoke_boot", "outcome")), "timeout");
	assert_true(now_us() - t0 < 5000000);
	assert_true(wait_session_empty(s.pid, 2000));
	json_decref(j);
	spawned_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_doctors),
		cmocka_unit_test(test_sigint),
		cmocka_unit_test(test_sigterm),
		cmocka_unit_test(test_sigkill),
		cmocka_unit_test(test_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
