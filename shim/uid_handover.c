/*
 * The segment handed over at a user id change (uid_handover.h).
 *
 * The segment goes to the new user only on a permanent drop (real, effective
 * and saved ids all that user): then that user's reader may read its own
 * process, and nobody else may. A temporary seteuid() keeps it with the user
 * the process can become again; given to that user, it could be read or
 * truncated under a server that runs as root again (SIGBUS at its next
 * accept).
 *
 * fchown needs CAP_CHOWN, gone after the drop: the outcome is predicted from
 * the ids now and the arguments, the segment handed over before the call,
 * and given back if the call did not do what was predicted.
 */
#include "uid_handover.h"

#include "accept_path.h"
#include "listener_table.h"
#include "segment.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

/* CAP_SETUID in the effective set: the kernel's privileged rules apply. */
static int may_setuid(void)
{
	struct __user_cap_header_struct h = {.version =
						 _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &h, d) != 0)
		return 0;
	return (d[CAP_TO_INDEX(CAP_SETUID)].effective &
		CAP_TO_MASK(CAP_SETUID)) != 0;
}

/*
 * The ids after a successful setresuid(r, e, s) (-1 keeps one) by a
 * privileged caller, when they are all one user: that user, else -1.
 */
static uid_t permanent_uid(uid_t r, uid_t e, uid_t s)
{
	uid_t now_r, now_e, now_s;
	if (getresuid(&now_r, &now_e, &now_s) != 0)
		return (uid_t)-1;
	r = r == (uid_t)-1 ? now_r : r;
	e = e == (uid_t)-1 ? now_e : e;
	s = s == (uid_t)-1 ? now_s : s;
	return r == e && e == s ? e : (uid_t)-1;
}

/* setreuid(2): the saved id follows the effective one when the real one is
 * set, or the effective one is set to anything but the real one. */
uid_t aw_uid_setreuid_saved(uid_t ruid, uid_t euid)
{
	uid_t now_r, now_e, now_s;
	if (getresuid(&now_r, &now_e, &now_s) != 0)
		return (uid_t)-1;
	if (ruid != (uid_t)-1 || (euid != (uid_t)-1 && euid != now_r))
		return euid == (uid_t)-1 ? now_e : euid;
	return (uid_t)-1;
}

static void give_segment(struct aw_uid_change *c)
{
	aw_ready_config();
	aw_table_lock();
	c->handed = aw_segment_give_to(c->uid, &c->was);
	aw_table_unlock();
}

/* Before the real call: the ids it will leave are (r, e, s), -1 for those
 * it keeps, when the caller is privileged. */
void aw_uid_change_begin(struct aw_uid_change *c, uid_t r, uid_t e, uid_t s)
{
	c->saved_errno = errno;
	c->handed = 0;
	c->uid = (uid_t)-1;
	if (may_setuid())
		c->uid = permanent_uid(r, e, s);
	if (c->uid != (uid_t)-1)
		give_segment(c);
	errno = c->saved_errno;
}

/* After it: a failed call, or one that left other ids than predicted,
 * gets the segment back to its owner (still privileged then). */
void aw_uid_change_end(struct aw_uid_change *c, int ret)
{
	if (!c->handed)
		return;
	int saved = errno;
	uid_t now_r, now_e, now_s;
	int as_predicted = ret == 0 && getresuid(&now_r, &now_e, &now_s) == 0 &&
			   now_r == c->uid && now_e == c->uid &&
			   now_s == c->uid;
	if (!as_predicted) {
		c->uid = c->was;
		give_segment(c);
	}
	errno = saved;
}
