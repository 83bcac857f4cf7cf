// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the VMM child -> doctor record stream, as a compromised child could write it.
 * The parent's report must stay bounded: known statuses, terminated strings, stage names intact.
 * Input: 1 byte mode (bit 0: smoke protocol), then whole struct vmm_record images. */
// seeds: fuzz/corpus/vmm_records/*
#include "fuzz.h"
#include "vmm/internal.h"

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

FUZZ_TARGET(vmm_records)
{
	struct vmm_options opt;
	struct vmm_report rep, fresh;
	bool smoke, ended = false;

	if (!size)
		return 0;
	vmm_options_default(&opt);
	smoke = data[0] & 1;
	data++, size--;
	vmm_report_start(&rep, &opt, smoke);
	fresh = rep;
	for (; size >= sizeof(struct vmm_record); data += sizeof(struct vmm_record), size -= sizeof(struct vmm_record))
		vmm_record_apply(&rep, data, &ended);

	FUZZ_ASSERT(rep.n_stages == fresh.n_stages && rep.n_stages <= VMM_MAX_STAGES);
	FUZZ_ASSERT(rep.outcome <= VMM_OUTCOME_SETUP_FAILED);
	FUZZ_ASSERT(vmm_outcome_name(rep.outcome) != NULL);
	FUZZ_ASSERT(terminated(rep.message, sizeof(rep.message)));
	FUZZ_ASSERT(terminated(rep.stage_running, sizeof(rep.stage_running)));
	for (size_t i = 0; i < rep.n_stages; i++) {
		FUZZ_ASSERT(rep.stages[i].status <= VMM_STAGE_NOT_RUN);
		FUZZ_ASSERT(terminated(rep.stages[i].detail, sizeof(rep.stages[i].detail)));
		/* The child cannot rename stages: names come from the parent's own table. */
		FUZZ_ASSERT(strcmp(rep.stages[i].name, fresh.stages[i].name) == 0);
	}
	if (rep.stage_running[0]) {
		bool known = false;

		for (size_t i = 0; i < rep.n_stages; i++)
			known |= strcmp(rep.stage_running, rep.stages[i].name) == 0;
		FUZZ_ASSERT(known);
	}
	return 0;
}
