#ifndef PROPELLER_PROCESS_CONTROL_H
#define PROPELLER_PROCESS_CONTROL_H

/// Asks the kernel to send `signal` to this process when its parent thread exits (Linux prctl
/// PR_SET_PDEATHSIG; prctl is variadic, so Swift cannot call it directly). Returns 0 on success,
/// -1 where unsupported or on error.
int propeller_set_parent_death_signal(int signal);

#endif
