#include "dispatch.h"

#include <cstdlib>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#endif

namespace gradclip {
namespace {

#if defined(__x86_64__) || defined(_M_X64)
struct X86Features {
  bool sse2 = false, avx2 = false, fma = false, f16c = false, avx512 = false;
};

unsigned long long xgetbv0() {
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

X86Features detect_x86() {
  X86Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.sse2 = (d >> 26) & 1;
  f.fma = (c >> 12) & 1;
  f.f16c = (c >> 29) & 1;  // the AVX2 and AVX-512 tables load float16 with it
  const bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!osxsave || !avx) return f;
  const unsigned long long xcr0 = xgetbv0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;              // XMM and YMM state saved by the OS
  const bool os_zmm = (xcr0 & 0xE6) == 0xE6;            // plus opmask and ZMM state
  if (!os_ymm || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = ((b >> 5) & 1) && f.fma && f.f16c;
  const bool avx512f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
  f.avx512 = os_zmm && avx512f && dq && bw && vl && f.avx2;
  return f;
}
#endif

std::vector<const KernelTable*> detect() {
  std::vector<const KernelTable*> out;
#if defined(__x86_64__) || defined(_M_X64)
  const X86Features f = detect_x86();
  if (f.avx512 && avx512_kernels()) out.push_back(avx512_kernels());
  if (f.avx2 && avx2_kernels()) out.push_back(avx2_kernels());
  if (f.sse2 && sse2_kernels()) out.push_back(sse2_kernels());
#elif defined(__aarch64__)
#if defined(__linux__)
  const bool asimd = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#else
  const bool asimd = true;  // Advanced SIMD is mandatory on AArch64
#endif
  if (asimd && neon_kernels()) out.push_back(neon_kernels());
#endif
  out.push_back(scalar_kernels());
  return out;
}

}  // namespace

const std::vector<const KernelTable*>& supported_kernels() {
  static const std::vector<const KernelTable*> tables = detect();
  return tables;
}

const KernelTable* find_kernels(const std::string& isa) {
  for (const KernelTable* t : supported_kernels()) {
    if (isa == t->isa) return t;
  }
  return nullptr;
}

const KernelTable* initial_kernels(std::string* note) {
  const char* requested = std::getenv("GRADCLIP_ISA");
  if (requested != nullptr && *requested != '\0') {
    if (const KernelTable* t = find_kernels(requested)) return t;
    if (note) {
      *note = std::string("GRADCLIP_ISA=") + requested + " is not supported on this CPU (supported:";
      for (const KernelTable* t : supported_kernels()) *note += std::string(" ") + t->isa;
      *note += "); using " + std::string(supported_kernels().front()->isa);
    }
  }
  return supported_kernels().front();
}

}  // namespace gradclip
