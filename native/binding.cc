// The Node-API binding, in plain C Node-API: unpacks a JS array of Float32Array/Float64Array
// into pointer views (zero-copy) and hands the whole list to the engine in one call. No
// semantics live here. The rules of this file:
//  - every address and length comes from Node-API (the engine's internal slots), read after the
//    last user JavaScript of the call has run — never from a JS-visible property;
//  - no C++ exception leaves a function Node calls: each entry point converts them to a JS error,
//    and a Node-API call that fails (as they all do while a worker is being terminated) is an
//    error to report if JavaScript can still run, and nothing more — never an abort;
//  - everything belongs to one environment (instance data): the engine and its thread pool are
//    destroyed, threads joined, when that environment goes away, before Node unloads the addon.
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "dispatch.h"
#include "engine.h"

namespace gradclip {
namespace {

// An error to raise in JavaScript; thrown inside this file only, caught at each entry point.
struct JsError {
  enum Kind { Type, Range, Plain } kind;
  std::string message;
};

void check(napi_status status, const char* what) {
  if (status != napi_ok) throw JsError{JsError::Plain, std::string("gradclip native: ") + what + " failed"};
}

// Raises the error in JavaScript if it can still run there; otherwise there is no one to tell.
void raise(napi_env env, const JsError& e) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return;
  switch (e.kind) {
    case JsError::Type: napi_throw_type_error(env, nullptr, e.message.c_str()); break;
    case JsError::Range: napi_throw_range_error(env, nullptr, e.message.c_str()); break;
    default: napi_throw_error(env, nullptr, e.message.c_str()); break;
  }
}

// Every entry point runs through this: C++ exceptions become JS errors, nothing escapes.
template <class F>
napi_value guarded(napi_env env, F&& body) {
  try {
    return body();
  } catch (const JsError& e) {
    raise(env, e);
  } catch (const std::bad_alloc&) {
    raise(env, {JsError::Range, "gradclip native: out of memory"});
  } catch (const std::exception& e) {
    raise(env, {JsError::Plain, std::string("gradclip native: ") + e.what()});
  } catch (...) {
    raise(env, {JsError::Plain, "gradclip native: unknown C++ exception"});
  }
  return nullptr;
}

struct Instance {
  Engine engine;
  // Two unpacked lists, reused while src/backends/native.ts sees the same arrays with the same
  // lengths (it keeps those arrays alive while a slot refers to them): a training step clips
  // its whole list, and the norm's underflow re-check may reduce a sub-list in between. Each
  // is named by a token that is never reused, so a caller holding an old token gets an error,
  // never another list's pointers.
  TensorList slots[2];
  double tokens[2] = {0, 0};
  double next_token = 1;
};

constexpr const char* kStale = "gradclip native: stale list token";

Instance* instance(napi_env env) {
  void* data = nullptr;
  check(napi_get_instance_data(env, &data), "napi_get_instance_data");
  if (data == nullptr) throw JsError{JsError::Plain, "gradclip native: not initialised"};
  return static_cast<Instance*>(data);
}

template <std::size_t N>
void args(napi_env env, napi_callback_info info, napi_value (&argv)[N]) {
  std::size_t argc = N;
  check(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "napi_get_cb_info");
  for (std::size_t i = argc; i < N; ++i) check(napi_get_undefined(env, &argv[i]), "napi_get_undefined");
}

double number(napi_env env, napi_value v, const char* name) {
  double x = 0;
  if (napi_get_value_double(env, v, &x) != napi_ok) throw JsError{JsError::Type, std::string(name) + ": expected a number"};
  return x;
}

// A typed array's element type, length and data pointer (byteOffset applied), from the engine.
struct FloatArray {
  bool f64;
  std::size_t length;
  void* data;
  Half half = Half::None;
};
// A kernel array: a float array, or 16-bit bits — float16 in a Uint16Array, bfloat16 in an Int16Array,
// as the facade passes them (src/half.ts).
bool kernel_array(napi_env env, napi_value v, FloatArray* out) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return false;
  napi_typedarray_type type = napi_int8_array;
  // For a small array still on the V8 heap, asking for its data moves it off the heap first,
  // so the pointer stays valid for as long as the buffer is neither detached nor freed.
  check(napi_get_typedarray_info(env, v, &type, &out->length, &out->data, nullptr, nullptr), "napi_get_typedarray_info");
  out->f64 = type == napi_float64_array;
  out->half = type == napi_uint16_array ? Half::F16 : type == napi_int16_array ? Half::BF16 : Half::None;
  return type == napi_float32_array || type == napi_float64_array || out->half != Half::None;
}

// A Float32Array/Float64Array only (scales, outputs, the column and step arrays).
bool float_array(napi_env env, napi_value v, FloatArray* out) {
  return kernel_array(env, v, out) && out->half == Half::None;
}

// Unpacks `list` (an Array of kernel arrays). The facade has validated it, so anything else is a
// bug and becomes a TypeError; `values`, if given, receives the arrays.
TensorList list_of(napi_env env, napi_value list, std::vector<napi_value>* values = nullptr) {
  bool is_array = false;
  if (napi_is_array(env, list, &is_array) != napi_ok || !is_array) {
    throw JsError{JsError::Type, "arrays: expected an Array of typed arrays"};
  }
  uint32_t n = 0;
  check(napi_get_array_length(env, list, &n), "napi_get_array_length");
  std::vector<TensorView> views(n);
  if (values) values->resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    napi_value item;
    check(napi_get_element(env, list, i, &item), "napi_get_element");
    FloatArray a;
    if (!kernel_array(env, item, &a)) {
      throw JsError{JsError::Type, "arrays[" + std::to_string(i) + "]: expected Float32Array or Float64Array"};
    }
    views[i] = {a.length == 0 ? nullptr : a.data, a.length, a.f64, a.half};
    if (values) (*values)[i] = item;
  }
  return TensorList(std::move(views));
}

// A token from prepare() selects an unpacked list; an Array is unpacked now into `own`.
const TensorList& list_arg(napi_env env, napi_value v, TensorList* own) {
  napi_valuetype t;
  check(napi_typeof(env, v, &t), "napi_typeof");
  if (t == napi_number) {
    const double token = number(env, v, "token");
    Instance* inst = instance(env);
    for (int i = 0; i < 2; ++i) {
      if (inst->tokens[i] == token && token != 0) return inst->slots[i];
    }
    throw JsError{JsError::Range, kStale};
  }
  *own = list_of(env, v);
  return *own;
}

Op op_of(napi_env env, napi_value v) {
  const double code = number(env, v, "op");
  if (!(code >= 0 && code <= static_cast<int>(Op::SumPow)) || code != static_cast<int>(code)) {
    throw JsError{JsError::Range, "op: unknown reduce op"};
  }
  return static_cast<Op>(static_cast<int>(code));
}

// A Float64Array of at least n elements (scales may be null/undefined: none).
double* f64_arg(napi_env env, napi_value v, std::size_t n, const char* name, bool optional) {
  napi_valuetype t;
  check(napi_typeof(env, v, &t), "napi_typeof");
  if (optional && (t == napi_null || t == napi_undefined)) return nullptr;
  FloatArray a;
  if (!float_array(env, v, &a) || !a.f64) throw JsError{JsError::Type, std::string(name) + ": expected a Float64Array"};
  if (a.length < n) throw JsError{JsError::Range, std::string(name) + ": shorter than the list"};
  return static_cast<double*>(a.data);
}

napi_value undefined(napi_env env) {
  napi_value u = nullptr;
  napi_get_undefined(env, &u);
  return u;
}

napi_value make_number(napi_env env, double x) {
  napi_value v;
  check(napi_create_double(env, x, &v), "napi_create_double");
  return v;
}

// ---- synchronous calls ------------------------------------------------------------------------

// prepare(list, evict): unpacks `list` into the slot holding token `evict` (else the older
// one) and returns the list's new token.
napi_value Prepare(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value argv[2];
    args(env, info, argv);
    napi_valuetype t;
    check(napi_typeof(env, argv[1], &t), "napi_typeof");
    const double evict = t == napi_number ? number(env, argv[1], "evict") : 0;
    TensorList list = list_of(env, argv[0]);
    Instance* inst = instance(env);
    int slot = inst->tokens[0] <= inst->tokens[1] ? 0 : 1;
    if (evict != 0 && (inst->tokens[0] == evict || inst->tokens[1] == evict)) slot = inst->tokens[0] == evict ? 0 : 1;
    inst->slots[slot] = std::move(list);
    inst->tokens[slot] = inst->next_token++;
    return make_number(env, inst->tokens[slot]);
  });
}

// The synchronous list calls: N arguments, the first a list or a token, unpacked here.
template <std::size_t N, class F>
napi_value list_call(napi_env env, napi_callback_info info, F&& body) {
  return guarded(env, [&] {
    napi_value argv[N];
    args(env, info, argv);
    TensorList own;
    const TensorList& list = list_arg(env, argv[0], &own);
    return body(list, argv);
  });
}

napi_value Reduce(napi_env env, napi_callback_info info) {
  return list_call<5>(env, info, [&](const TensorList& list, napi_value* argv) {
    const Op op = op_of(env, argv[1]);
    const double p = number(env, argv[2], "p");
    const double* scales = f64_arg(env, argv[3], list.size(), "scales", true);
    double* out = f64_arg(env, argv[4], list.size(), "out", false);
    instance(env)->engine.reduce(list, op, p, scales, out);
    return undefined(env);
  });
}

napi_value Scale(napi_env env, napi_callback_info info) {
  return list_call<2>(env, info, [&](const TensorList& list, napi_value* argv) {
    instance(env)->engine.scale(list, number(env, argv[1], "coef"));
    return undefined(env);
  });
}

// scaleEach(list, coefs): coefs a Float64Array with one coefficient per tensor, read through
// Node-API after the list (no user code runs in between).
napi_value ScaleEach(napi_env env, napi_callback_info info) {
  return list_call<2>(env, info, [&](const TensorList& list, napi_value* argv) {
    const double* coefs = f64_arg(env, argv[1], list.size(), "coefs", false);
    instance(env)->engine.scale_each(list, coefs);
    return undefined(env);
  });
}

napi_value Clamp(napi_env env, napi_callback_info info) {
  return list_call<3>(env, info, [&](const TensorList& list, napi_value* argv) {
    instance(env)->engine.clamp(list, number(env, argv[1], "lo"), number(env, argv[2], "hi"));
    return undefined(env);
  });
}

// columnSumSquares(array, columns, s, out) / scaleColumns(array, columns, coefs): one array read as
// a row-major [rows, columns] matrix. Its address and length come from Node-API here, after every
// argument was read; columns must divide the length.
TensorView column_view(napi_env env, napi_value array, napi_value columns_v, std::size_t* columns) {
  FloatArray a;
  if (!float_array(env, array, &a)) throw JsError{JsError::Type, "array: expected a Float32Array or Float64Array"};
  const double c = number(env, columns_v, "columns");
  // (The range check comes first: converting a double beyond size_t's range is undefined.)
  if (!(c >= 1 && c <= 9007199254740992.0) || c != static_cast<double>(static_cast<std::size_t>(c)) ||
      (a.length % static_cast<std::size_t>(c)) != 0) {
    throw JsError{JsError::Range, "columns: must be a positive integer dividing the array's length"};
  }
  *columns = static_cast<std::size_t>(c);
  return {a.length == 0 ? nullptr : a.data, a.length, a.f64};
}

napi_value ColumnSumSquares(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value argv[4];
    args(env, info, argv);
    std::size_t columns = 0;
    const double s = number(env, argv[2], "s");
    double* out = f64_arg(env, argv[3], 0, "out", false);
    const TensorView t = column_view(env, argv[0], argv[1], &columns);
    FloatArray o;
    float_array(env, argv[3], &o);
    if (o.length < columns) throw JsError{JsError::Range, "out: shorter than columns"};
    instance(env)->engine.column_sum_squares(t, columns, s, out);
    return undefined(env);
  });
}

napi_value ScaleColumns(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value argv[3];
    args(env, info, argv);
    std::size_t columns = 0;
    const double* coefs = f64_arg(env, argv[2], 0, "coefs", false);
    const TensorView t = column_view(env, argv[0], argv[1], &columns);
    FloatArray c;
    float_array(env, argv[2], &c);
    if (c.length < columns) throw JsError{JsError::Range, "coefs: shorter than columns"};
    instance(env)->engine.scale_columns(t, columns, coefs);
    return undefined(env);
  });
}

// ---- the optimizer step ----------------------------------------------------------------------------
//
// step(list, kind, hyper, perTensor): `list` holds groups of width tensors (Engine::step_width), `hyper`
// the StepArgs in the order of StepHyper in src/backends/backend.ts, perTensor two doubles per group.
// Everything is read here, from Node-API; every group is checked for one dtype and one length (the
// lengths the engine will use), so a kernel never runs past an array whatever JS passed.
constexpr std::size_t kStepHyper = 17;

struct StepCall {
  Engine::StepKind kind;
  StepArgs args;
  std::vector<double> per_tensor;
};

StepCall step_call(napi_env env, const TensorList& list, napi_value kind_v, napi_value hyper_v, napi_value per_v) {
  const double kind = number(env, kind_v, "kind");
  if (kind != 0 && kind != 1) throw JsError{JsError::Range, "kind: expected 0 (SGD) or 1 (Adam)"};
  const double* h = f64_arg(env, hyper_v, kStepHyper, "hyper", false);
  StepCall call;
  call.kind = static_cast<Engine::StepKind>(static_cast<int>(kind));
  StepArgs& a = call.args;
  a.c = h[0], a.lo = h[1], a.hi = h[2], a.sign = h[3], a.weight_decay = h[4], a.momentum = h[5], a.damp1 = h[6];
  a.neg_lr = h[7], a.nesterov = h[8] != 0, a.decoupled = h[9] != 0, a.amsgrad = h[10] != 0, a.decay = h[11];
  a.beta1 = h[12], a.omb1 = h[13], a.beta2 = h[14], a.omb2 = h[15], a.eps = h[16];
  const std::size_t width = Engine::step_width(call.kind, a);
  const auto& views = list.views();
  if (views.size() % width != 0) throw JsError{JsError::Range, "list: not a whole number of groups of " + std::to_string(width)};
  const std::size_t groups = views.size() / width;
  for (const TensorView& v : views) {
    if (v.half != Half::None) throw JsError{JsError::Type, "list: the optimizer step takes float32/float64 arrays only"};
  }
  for (std::size_t g = 0; g < groups; ++g) {
    for (std::size_t j = 1; j < width; ++j) {
      const TensorView& x = views[g * width], &y = views[g * width + j];
      if (x.f64 != y.f64 || x.length != y.length) {
        throw JsError{JsError::Range, "list: group " + std::to_string(g) + " mixes lengths or dtypes"};
      }
    }
  }
  const double* per = f64_arg(env, per_v, 2 * groups, "perTensor", false);
  call.per_tensor.assign(per, per + 2 * groups);
  return call;
}

napi_value Step(napi_env env, napi_callback_info info) {
  return list_call<4>(env, info, [&](const TensorList& list, napi_value* argv) {
    const StepCall call = step_call(env, list, argv[1], argv[2], argv[3]);
    instance(env)->engine.step(list, call.kind, call.args, call.per_tensor.data());
    return undefined(env);
  });
}

napi_value ProbeRead(napi_env env, napi_callback_info info) {
  return list_call<1>(env, info, [&](const TensorList& list, napi_value*) {
    return make_number(env, static_cast<double>(instance(env)->engine.probe_read(list) & 0xffff));
  });
}

// ---- asynchronous calls -----------------------------------------------------------------------
//
// The work runs on a libuv thread. Every typed array it touches (and `out`, `scales`) is held by
// a reference until the promise settles, so none can be collected; src/backends/native.ts has
// marked their ArrayBuffers untransferable and the facade has refused resizable ones, so none can
// be detached or shrunk meanwhile either. Node waits for work in flight before it tears an
// environment down, and the completion callback only releases and settles.

struct AsyncCall {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  std::vector<napi_ref> refs;
  Instance* inst = nullptr;
  std::function<void(Engine&)> job;
  TensorList list;
  std::string error;  // set by Execute if the work threw
};

void execute(napi_env, void* data) {
  auto* call = static_cast<AsyncCall*>(data);
  try {
    call->job(call->inst->engine);
  } catch (const std::bad_alloc&) {
    call->error = "gradclip native: out of memory";
  } catch (const std::exception& e) {
    call->error = std::string("gradclip native: ") + e.what();
  } catch (...) {
    call->error = "gradclip native: unknown C++ exception";
  }
}

void complete(napi_env env, napi_status status, void* data) {
  auto* call = static_cast<AsyncCall*>(data);
  for (napi_ref r : call->refs) napi_delete_reference(env, r);
  // While the environment is being torn down these calls fail; there is nobody left to tell.
  if (status == napi_ok && call->error.empty()) {
    napi_resolve_deferred(env, call->deferred, undefined(env));
  } else {
    const std::string text = call->error.empty() ? "gradclip native: the work was cancelled" : call->error;
    napi_value message = nullptr, error = nullptr;
    if (napi_create_string_utf8(env, text.c_str(), text.size(), &message) == napi_ok &&
        napi_create_error(env, nullptr, message, &error) == napi_ok) {
      napi_reject_deferred(env, call->deferred, error);
    }
  }
  napi_delete_async_work(env, call->work);
  delete call;
}

// Unpacks `list`, references it and `extra`, and queues `job` over it; returns the promise.
// If anything fails before the work is queued, the references made so far are released.
napi_value queue(napi_env env, napi_value list, const std::vector<napi_value>& extra,
                 std::function<void(Engine&, const TensorList&)> job) {
  auto call = std::make_unique<AsyncCall>();
  call->inst = instance(env);
  std::vector<napi_value> keep;
  call->list = list_of(env, list, &keep);
  keep.insert(keep.end(), extra.begin(), extra.end());
  try {
    call->refs.reserve(keep.size());
    for (napi_value v : keep) {
      napi_ref r;
      check(napi_create_reference(env, v, 1, &r), "napi_create_reference");
      call->refs.push_back(r);
    }
    AsyncCall* raw = call.get();
    call->job = [raw, job = std::move(job)](Engine& e) { job(e, raw->list); };
    napi_value promise, name;
    check(napi_create_promise(env, &call->deferred, &promise), "napi_create_promise");
    check(napi_create_string_utf8(env, "gradclip", NAPI_AUTO_LENGTH, &name), "napi_create_string_utf8");
    check(napi_create_async_work(env, nullptr, name, execute, complete, raw, &call->work), "napi_create_async_work");
    if (napi_queue_async_work(env, call->work) != napi_ok) {
      napi_delete_async_work(env, call->work);
      throw JsError{JsError::Plain, "gradclip native: napi_queue_async_work failed"};
    }
    call.release();  // complete() owns it now
    return promise;
  } catch (...) {
    for (napi_ref r : call->refs) napi_delete_reference(env, r);
    throw;
  }
}

napi_value ReduceAsync(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value argv[5];
    args(env, info, argv);
    const Op op = op_of(env, argv[1]);
    const double p = number(env, argv[2], "p");
    uint32_t n = 0;
    check(napi_get_array_length(env, argv[0], &n), "napi_get_array_length");
    const double* scales = f64_arg(env, argv[3], n, "scales", true);
    double* out = f64_arg(env, argv[4], n, "out", false);
    std::vector<napi_value> extra{argv[4]};
    if (scales) extra.push_back(argv[3]);
    return queue(env, argv[0], extra, [op, p, scales, out](Engine& e, const TensorList& l) {
      e.reduce(l, op, p, scales, out);
    });
  });
}

napi_value ScaleAsync(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value argv[2];
    args(env, info, argv);
    const double coef = number(env, argv[1], "coef");
    return queue(env, argv[0], {}, [coef](Engine& e, const TensorList& l) { e.scale(l, coef); });
  });
}

// scaleEachAsync(list, coefs): coefs referenced until the promise settles, like reduceAsync's out.
napi_value ScaleEachAsync(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value argv[2];
    args(env, info, argv);
    uint32_t n = 0;
    check(napi_get_array_length(env, argv[0], &n), "napi_get_array_length");
    const double* coefs = f64_arg(env, argv[1], n, "coefs", false);
    return queue(env, argv[0], {argv[1]}, [coefs](Engine& e, const TensorList& l) { e.scale_each(l, coefs); });
  });
}

napi_value ClampAsync(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value argv[3];
    args(env, info, argv);
    const double lo = number(env, argv[1], "lo"), hi = number(env, argv[2], "hi");
    return queue(env, argv[0], {}, [lo, hi](Engine& e, const TensorList& l) { e.clamp(l, lo, hi); });
  });
}

// stepAsync(list, kind, hyper, perTensor): the scalars are copied now; the arrays are referenced.
napi_value StepAsync(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value argv[4];
    args(env, info, argv);
    // Unpacked once here to check the shapes and copy the scalars; queue() unpacks it again (no
    // user code runs in between) and the work uses that copy.
    const StepCall call = step_call(env, list_of(env, argv[0]), argv[1], argv[2], argv[3]);
    return queue(env, argv[0], {}, [call](Engine& e, const TensorList& l) {
      e.step(l, call.kind, call.args, call.per_tensor.data());
    });
  });
}

// ---- settings -------------------------------------------------------------------------------

void set_property(napi_env env, napi_value obj, const char* key, napi_value v) {
  check(napi_set_named_property(env, obj, key, v), "napi_set_named_property");
}

napi_value make_string(napi_env env, const std::string& s) {
  napi_value v;
  check(napi_create_string_utf8(env, s.c_str(), s.size(), &v), "napi_create_string_utf8");
  return v;
}

napi_value Info(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
    Engine& e = instance(env)->engine;
    napi_value o, supported;
    check(napi_create_object(env, &o), "napi_create_object");
    set_property(env, o, "isa", make_string(env, e.kernels()->isa));
    set_property(env, o, "threads", make_number(env, static_cast<double>(e.threads())));
    set_property(env, o, "maxThreads", make_number(env, static_cast<double>(kMaxThreads)));
    set_property(env, o, "poolThreads", make_number(env, static_cast<double>(e.pool_threads())));
    set_property(env, o, "parallelThreshold", make_number(env, static_cast<double>(e.parallel_threshold())));
    set_property(env, o, "isaNote", make_string(env, e.isa_note()));
    check(napi_create_array(env, &supported), "napi_create_array");
    uint32_t i = 0;
    for (const KernelTable* t : supported_kernels()) {
      check(napi_set_element(env, supported, i++, make_string(env, t->isa)), "napi_set_element");
    }
    set_property(env, o, "supported", supported);
    set_property(env, o, "block", make_number(env, static_cast<double>(kBlock)));
    set_property(env, o, "lanes", make_number(env, static_cast<double>(kLanes)));
    return o;
  });
}

std::size_t count_arg(napi_env env, napi_value v, const char* name) {
  const double x = number(env, v, name);
  if (!(x >= 0) || std::floor(x) != x) throw JsError{JsError::Range, std::string(name) + ": expected an integer >= 0"};
  return x >= 1e18 ? static_cast<std::size_t>(1e18) : static_cast<std::size_t>(x);
}

// setThreads(n), setParallelThreshold(n): one count for the engine.
template <void (Engine::*set)(std::size_t)>
napi_value SetCount(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value argv[1];
    args(env, info, argv);
    (instance(env)->engine.*set)(count_arg(env, argv[0], "n"));
    return undefined(env);
  });
}

napi_value SetIsa(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value argv[1];
    args(env, info, argv);
    char name[32] = {0};
    std::size_t len = 0;
    if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
      throw JsError{JsError::Type, "isa: expected a string"};
    }
    napi_value result;
    check(napi_get_boolean(env, instance(env)->engine.set_isa(name), &result), "napi_get_boolean");
    return result;
  });
}

void finalize_instance(napi_env, void* data, void*) {
  delete static_cast<Instance*>(data);  // joins the pool's threads
}

napi_value Init(napi_env env, napi_value exports) {
  return guarded(env, [&]() -> napi_value {
    auto inst = std::make_unique<Instance>();
    check(napi_set_instance_data(env, inst.get(), finalize_instance, nullptr), "napi_set_instance_data");
    inst.release();
    const std::pair<const char*, napi_callback> entries[] = {
        {"prepare", Prepare},        {"reduce", Reduce},
        {"scale", Scale},            {"scaleEach", ScaleEach},    {"clamp", Clamp},
        {"reduceAsync", ReduceAsync}, {"scaleAsync", ScaleAsync}, {"scaleEachAsync", ScaleEachAsync},
        {"clampAsync", ClampAsync},  {"info", Info},
        {"setThreads", SetCount<&Engine::set_threads>},  {"setIsa", SetIsa},
        {"setParallelThreshold", SetCount<&Engine::set_parallel_threshold>}, {"probeRead", ProbeRead}, {"columnSumSquares", ColumnSumSquares}, {"scaleColumns", ScaleColumns},
        {"step", Step}, {"stepAsync", StepAsync},
    };
    std::vector<napi_property_descriptor> methods;
    for (const auto& [name, fn] : entries) {
      methods.push_back({name, nullptr, fn, nullptr, nullptr, nullptr, napi_enumerable, nullptr});
    }
    check(napi_define_properties(env, exports, methods.size(), methods.data()), "napi_define_properties");
    return exports;
  });
}

}  // namespace
}  // namespace gradclip

NAPI_MODULE_INIT() { return gradclip::Init(env, exports); }
