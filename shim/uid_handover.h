/*
 * The segment handed over when the process drops root for good (setuid,
 * seteuid, setreuid, setresuid): predicted before the real call, which may
 * take away the right to hand it over, and undone after it when the call
 * did not leave the ids predicted.
 */
#ifndef AW_UID_HANDOVER_H
#define AW_UID_HANDOVER_H

#include <sys/types.h>

/* One id change, from aw_uid_change_begin to aw_uid_change_end. */
struct aw_uid_change {
	uid_t uid;	 /* all three ids after the call; -1 none */
	uid_t was;	 /* the segment's owner before, when handed over */
	int handed;	 /* the segment was handed over before the call */
	int saved_errno; /* the host's errno on the way in */
};

/*
 * Before the real call, which will leave the ids (r, e, s), -1 for one it
 * keeps: when the caller is privileged and they will all be one user, the
 * segment is handed to that user now. errno is kept. Takes the table lock.
 */
void aw_uid_change_begin(struct aw_uid_change *c, uid_t r, uid_t e, uid_t s);

/* After it (ret: its return): a failed call, or one that left other ids
 * than predicted, gets the segment back to its owner. errno is kept. */
void aw_uid_change_end(struct aw_uid_change *c, int ret);

/* The saved id setreuid(ruid, euid) will leave, or -1 when it keeps it. */
uid_t aw_uid_setreuid_saved(uid_t ruid, uid_t euid);

#endif
