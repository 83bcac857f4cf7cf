// SPDX-License-Identifier: GPL-2.0-or-later
/* Decoder for the guest report protocol (ports VD_PORT_CTL/VD_PORT_DATA); pure, no KVM. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* A correct guest sends a few dozen reports; more than this is a flood. */
#define RC_MAX_EVENTS 1024

static const char *const event_names[] = {
	[RC_EV_NONE] = "none", [RC_EV_BEGIN] = "begin", [RC_EV_END] = "end",
	[RC_EV_VALUE] = "value", [RC_EV_MARK] = "mark", [RC_EV_TICK] = "tick",
	[RC_EV_START_AP] = "start-ap", [RC_EV_CHECKIN] = "checkin", [RC_EV_PARK] = "park",
	[RC_EV_DONE] = "done", [RC_EV_FAIL] = "fail",
};

const char *rc_event_name(enum rc_event_type t)
{
	return (unsigned)t < sizeof(event_names) / sizeof(event_names[0]) ? event_names[t] : "?";
}

void rc_init(struct rc_state *st, bool stages, unsigned last_stage)
{
	memset(st, 0, sizeof(*st));
	st->stages = stages;
	st->last_stage = last_stage;
	st->next = 1;
}

void rc_skip_to(struct rc_state *st, unsigned next)
{
	st->cur = 0;
	st->next = next;
}

static int decode_ctl(struct rc_state *st, unsigned cmd, unsigned arg, struct rc_event *ev,
		      char *why, size_t len)
{
	if (!st->stages && cmd != VD_CMD_DONE && cmd != VD_CMD_FAIL) {
		snprintf(why, len, "report command 0x%02x is not available to payloads", cmd);
		return -EPROTO;
	}
	ev->arg = arg;
	ev->stage = st->cur;
	switch (cmd) {
	case VD_CMD_BEGIN:
		if (st->cur) {
			snprintf(why, len, "guest began stage %u while stage %u is open", arg, st->cur);
			return -EPROTO;
		}
		if (arg != st->next) {
			snprintf(why, len, "guest began stage %u out of order (expected %u)", arg, st->next);
			return -EPROTO;
		}
		st->cur = arg;
		st->n_values = 0;
		ev->type = RC_EV_BEGIN;
		ev->stage = arg;
		return 0;
	case VD_CMD_END:
		if (!st->cur || arg != st->cur) {
			snprintf(why, len, "guest ended stage %u but stage %u is open", arg, st->cur);
			return -EPROTO;
		}
		st->cur = 0;
		st->next = arg + 1;
		ev->type = RC_EV_END;
		ev->stage = arg;
		return 0;
	case VD_CMD_FAIL:
		ev->type = RC_EV_FAIL;
		return 0;
	case VD_CMD_MARK:
		if (!st->cur) {
			snprintf(why, len, "guest sent mark %u outside a stage", arg);
			return -EPROTO;
		}
		ev->type = RC_EV_MARK;
		return 0;
	case VD_CMD_TICK:
		ev->type = RC_EV_TICK;
		return 0;
	case VD_CMD_START_AP:
	case VD_CMD_CHECKIN:
	case VD_CMD_PARK:
		if (arg == 0 || arg >= VMM_MAX_VCPUS) {
			snprintf(why, len, "guest named impossible vCPU %u", arg);
			return -EPROTO;
		}
		ev->type = cmd == VD_CMD_START_AP ? RC_EV_START_AP :
			   cmd == VD_CMD_CHECKIN ? RC_EV_CHECKIN : RC_EV_PARK;
		return 0;
	case VD_CMD_DONE:
		if (st->stages && st->cur != st->last_stage) {
			snprintf(why, len, "guest reported done in stage %u, before the last stage", st->cur);
			return -EPROTO;
		}
		st->done = true;
		ev->type = RC_EV_DONE;
		return 0;
	default:
		snprintf(why, len, "unknown report command 0x%02x (arg 0x%02x)", cmd, arg);
		return -EPROTO;
	}
}

int rc_decode(struct rc_state *st, uint16_t port, bool out, unsigned size, uint32_t value,
	      struct rc_event *ev, char *why, size_t len)
{
	memset(ev, 0, sizeof(*ev));
	if (++st->events > RC_MAX_EVENTS) {
		snprintf(why, len, "report flood: more than %u reports", RC_MAX_EVENTS);
		return -EMLINK;
	}
	if (!out) {
		snprintf(why, len, "guest read from report port 0x%x (write-only)", port);
		return -EPROTO;
	}
	if (st->done) {
		snprintf(why, len, "guest reported 0x%x on port 0x%x after done", value, port);
		return -EPROTO;
	}
	if (port == VD_PORT_CTL) {
		if (size != 2) {
			snprintf(why, len, "report command of %u bytes (must be 2), value 0x%x", size, value);
			return -EPROTO;
		}
		return decode_ctl(st, value & 0xff, (value >> 8) & 0xff, ev, why, len);
	}
	if (port == VD_PORT_DATA) {
		if (size != 4) {
			snprintf(why, len, "report value of %u bytes (must be 4), value 0x%x", size, value);
			return -EPROTO;
		}
		if (!st->stages || !st->cur) {
			snprintf(why, len, "report value 0x%x outside a stage", value);
			return -EPROTO;
		}
		if (st->n_values >= VD_MAX_VALUES) {
			snprintf(why, len, "more than %u report values in stage %u", VD_MAX_VALUES, st->cur);
			return -EPROTO;
		}
		st->values[st->n_values++] = value;
		ev->type = RC_EV_VALUE;
		ev->stage = st->cur;
		ev->value = value;
		return 0;
	}
	snprintf(why, len, "not a report port: 0x%x", port);
	return -EPROTO;
}
