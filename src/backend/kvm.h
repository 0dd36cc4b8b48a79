/* kvm.h - does KVM really work here? /dev/kvm can exist and still fail
 * (nested setups where guests hang or die with "KVM internal error"). */
#pragma once
#include <stdbool.h>

/* Runs one guest instruction (hlt) in a throwaway VM, in a child with a
 * deadline. true only when the vCPU came back with KVM_EXIT_HLT; *why says
 * what failed otherwise (static string). */
bool kvm_usable(const char **why);
