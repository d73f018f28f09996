{
  # Each instruction set is its own static library with its own flags; the addon itself is
  # built for the baseline (never -march=native) and picks a kernel table at load time.
  "variables": { "sanitize%": 0 },
  "target_defaults": {
    "conditions": [["sanitize==1", {
      "cflags_cc": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all", "-O1", "-g"],
      "ldflags": ["-fsanitize=address,undefined"]
    }]],
    "cflags_cc": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-math-errno", "-fvisibility=hidden"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
    "defines": ["NAPI_VERSION=8"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17", "-ffp-contract=off"]
    },
    # Windows (untested here; .github/workflows/prebuild.yml): the kernels use GCC/Clang vector
    # extensions, so they are built with clang-cl, never MSVC's own compiler.
    "msbuild_toolset": "ClangCL",
    "msvs_settings": {
      "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/O2", "-ffp-contract=off"] }
    }
  },
  "targets": [
    {
      "target_name": "gradclip_kernels_base",
      "type": "static_library",
      "sources": ["native/kernels/scalar.cc", "native/kernels/sse2.cc", "native/kernels/neon.cc"]
    },
    {
      "target_name": "gradclip_kernels_avx2",
      "type": "static_library",
      "sources": ["native/kernels/avx2.cc"],
      "conditions": [["target_arch=='x64'", { "cflags_cc": ["-mavx2", "-mfma", "-mf16c"], "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-mf16c"] }, "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["-mavx2", "-mfma", "-mf16c"] } } }]]
    },
    {
      "target_name": "gradclip_kernels_avx512",
      "type": "static_library",
      "sources": ["native/kernels/avx512.cc"],
      "conditions": [["target_arch=='x64'", { "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma", "-mf16c", "-Wno-maybe-uninitialized"], "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mf16c"] }, "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma", "-mf16c"] } } }]]
    },
    {
      "target_name": "gradclip",
      "sources": ["native/binding.cc", "native/engine.cc", "native/dispatch.cc", "native/pool.cc"],
      "dependencies": ["gradclip_kernels_base", "gradclip_kernels_avx2", "gradclip_kernels_avx512"],
      "cflags_cc": ["-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
