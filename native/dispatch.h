// CPU feature detection and the choice of kernel table, made once at load.
#pragma once

#include <string>
#include <vector>

#include "kernels/contract.h"

namespace gradclip {

// Kernel tables this CPU can run, best first (always ends with "scalar").
const std::vector<const KernelTable*>& supported_kernels();

// The best table, or the one GRADCLIP_ISA names if this CPU supports it. `note` says
// why a requested ISA was not used (empty if none was requested or it was used).
const KernelTable* initial_kernels(std::string* note);

// The supported table with this name, or nullptr.
const KernelTable* find_kernels(const std::string& isa);

}  // namespace gradclip
