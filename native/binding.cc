// The Node-API binding: unpacks a JS array of Float32Array/Float64Array into pointer views
// (zero-copy) and hands the whole list to the engine in one call. No semantics live here.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "dispatch.h"
#include "engine.h"

namespace gradclip {
namespace {

// A float typed array's element type, length and data pointer (byteOffset applied), with one
// Node-API query; anything that is not a Float32Array/Float64Array gives false.
struct FloatArray {
  bool f64;
  size_t length;
  void* data;
};
bool float_array(napi_env env, napi_value v, FloatArray* out) {
  bool is_typed = false;
  napi_is_typedarray(env, v, &is_typed);
  if (!is_typed) return false;
  napi_typedarray_type type = napi_int8_array;
  napi_get_typedarray_info(env, v, &type, &out->length, &out->data, nullptr, nullptr);
  out->f64 = type == napi_float64_array;
  return type == napi_float32_array || type == napi_float64_array;
}

// Unpacks `list` (an Array of Float32Array|Float64Array); the facade has validated it,
// so anything else is a bug and becomes a TypeError, never a crash.
TensorList list_of(const Napi::Env& env, const Napi::Value& list) {
  if (!list.IsArray()) throw Napi::TypeError::New(env, "arrays: expected an Array of typed arrays");
  napi_value arr = list;
  uint32_t n = 0;
  NAPI_THROW_IF_FAILED(env, napi_get_array_length(env, arr, &n), TensorList());
  std::vector<TensorView> views(n);
  for (uint32_t i = 0; i < n; ++i) {
    napi_value item;
    NAPI_THROW_IF_FAILED(env, napi_get_element(env, arr, i, &item), TensorList());
    FloatArray a;
    if (!float_array(env, item, &a)) {
      throw Napi::TypeError::New(env, "arrays[" + std::to_string(i) + "]: expected Float32Array or Float64Array");
    }
    views[i] = {a.length == 0 ? nullptr : a.data, a.length, a.f64};
  }
  return TensorList(std::move(views));
}

// A list unpacked once and reused while the JS side sees the same arrays with the same
// lengths (src/backends/native.ts checks that before every use). The references keep the
// arrays alive; V8 never moves an off-heap backing store, and napi_get_typedarray_info has
// already moved any on-heap one off the heap, so the pointers stay valid. Detaching or
// shrinking an array changes its length, which sends the JS side back to prepare().
struct PreparedList {
  TensorList list;
  std::vector<Napi::ObjectReference> refs;
};

// Either a plain Array of typed arrays (unpacked now, into `own`) or a prepared list.
const TensorList& unpack(const Napi::Env& env, const Napi::Value& v, TensorList* own) {
  if (v.IsExternal()) return v.As<Napi::External<PreparedList>>().Data()->list;
  *own = list_of(env, v);
  return *own;
}

Op op_of(const Napi::Env& env, const Napi::Value& v) {
  const int code = v.As<Napi::Number>().Int32Value();
  if (code < 0 || code > static_cast<int>(Op::SumPow)) throw Napi::RangeError::New(env, "op: unknown reduce op");
  return static_cast<Op>(code);
}

const double* scales_of(const Napi::Env& env, const Napi::Value& v, size_t n) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  auto a = v.As<Napi::Float64Array>();
  if (a.ElementLength() < n) throw Napi::RangeError::New(env, "scales: shorter than the list");
  return a.Data();
}

double* out_of(const Napi::Env& env, const Napi::Value& v, size_t n) {
  FloatArray a;
  if (!float_array(env, v, &a) || !a.f64) throw Napi::TypeError::New(env, "out: expected a Float64Array");
  if (a.length < n) throw Napi::RangeError::New(env, "out: shorter than the list");
  return static_cast<double*>(a.data);
}

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
        InstanceMethod("reduce", &Addon::Reduce),
        InstanceMethod("scale", &Addon::Scale),
        InstanceMethod("clamp", &Addon::Clamp),
        InstanceMethod("reduceAsync", &Addon::ReduceAsync),
        InstanceMethod("scaleAsync", &Addon::ScaleAsync),
        InstanceMethod("clampAsync", &Addon::ClampAsync),
        InstanceMethod("info", &Addon::Info),
        InstanceMethod("setThreads", &Addon::SetThreads),
        InstanceMethod("setIsa", &Addon::SetIsa),
        InstanceMethod("setParallelThreshold", &Addon::SetParallelThreshold),
        InstanceMethod("probeRead", &Addon::ProbeRead),
        InstanceMethod("prepare", &Addon::Prepare),
    });
  }

 private:
  static Engine& engine() {
    static Engine* e = new Engine();  // process-wide: shared by every worker_thread's instance
    return *e;
  }

  Napi::Value Prepare(const Napi::CallbackInfo& info) {
    auto* list = new PreparedList{list_of(info.Env(), info[0]), {}};
    Napi::Array arr = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); ++i) list->refs.push_back(Napi::Persistent(arr.Get(i).As<Napi::Object>()));
    return Napi::External<PreparedList>::New(info.Env(), list, [](Napi::Env, PreparedList* l) { delete l; });
  }

  Napi::Value Reduce(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    TensorList own;
    const TensorList& list = unpack(env, info[0], &own);
    const Op op = op_of(env, info[1]);
    const double p = info[2].As<Napi::Number>().DoubleValue();
    const double* scales = scales_of(env, info[3], list.size());
    double* out = out_of(env, info[4], list.size());
    engine().reduce(list, op, p, scales, out);
    return env.Undefined();
  }

  Napi::Value Scale(const Napi::CallbackInfo& info) {
    TensorList own;
    engine().scale(unpack(info.Env(), info[0], &own), info[1].As<Napi::Number>().DoubleValue());
    return info.Env().Undefined();
  }

  Napi::Value Clamp(const Napi::CallbackInfo& info) {
    TensorList own;
    engine().clamp(unpack(info.Env(), info[0], &own), info[1].As<Napi::Number>().DoubleValue(),
                   info[2].As<Napi::Number>().DoubleValue());
    return info.Env().Undefined();
  }

  // Work on a libuv thread. The JS arrays (and `out`) are held by references until the
  // promise settles, so their memory stays alive while the engine uses it.
  class ListWorker : public Napi::AsyncWorker {
   public:
    ListWorker(Napi::Env env, std::function<void()> work, std::vector<Napi::Value> keep)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)) {
      for (auto& v : keep) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    }
    Napi::Promise Promise() const { return deferred_.Promise(); }
    void Execute() override { work_(); }
    void OnOK() override { deferred_.Resolve(Env().Undefined()); }
    void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

   private:
    Napi::Promise::Deferred deferred_;
    std::function<void()> work_;
    std::vector<Napi::ObjectReference> refs_;
  };

  Napi::Value Queue(const Napi::CallbackInfo& info, std::function<void()> work, std::vector<Napi::Value> keep) {
    auto* worker = new ListWorker(info.Env(), std::move(work), std::move(keep));
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  Napi::Value ReduceAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto list = std::make_shared<TensorList>(list_of(env, info[0]));
    const Op op = op_of(env, info[1]);
    const double p = info[2].As<Napi::Number>().DoubleValue();
    const double* scales = scales_of(env, info[3], list->size());
    double* out = out_of(env, info[4], list->size());
    std::vector<Napi::Value> keep{info[0], info[4]};
    if (scales) keep.push_back(info[3]);
    return Queue(info, [list, op, p, scales, out] { engine().reduce(*list, op, p, scales, out); }, keep);
  }

  Napi::Value ScaleAsync(const Napi::CallbackInfo& info) {
    auto list = std::make_shared<TensorList>(list_of(info.Env(), info[0]));
    const double coef = info[1].As<Napi::Number>().DoubleValue();
    return Queue(info, [list, coef] { engine().scale(*list, coef); }, {info[0]});
  }

  Napi::Value ClampAsync(const Napi::CallbackInfo& info) {
    auto list = std::make_shared<TensorList>(list_of(info.Env(), info[0]));
    const double lo = info[1].As<Napi::Number>().DoubleValue();
    const double hi = info[2].As<Napi::Number>().DoubleValue();
    return Queue(info, [list, lo, hi] { engine().clamp(*list, lo, hi); }, {info[0]});
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("isa", engine().kernels()->isa);
    o.Set("threads", static_cast<double>(engine().threads()));
    o.Set("parallelThreshold", static_cast<double>(engine().parallel_threshold()));
    o.Set("isaNote", engine().isa_note());
    Napi::Array supported = Napi::Array::New(env);
    uint32_t i = 0;
    for (const KernelTable* t : supported_kernels()) supported.Set(i++, t->isa);
    o.Set("supported", supported);
    o.Set("block", static_cast<double>(kBlock));
    o.Set("lanes", static_cast<double>(kLanes));
    return o;
  }

  Napi::Value SetThreads(const Napi::CallbackInfo& info) {
    engine().set_threads(static_cast<std::size_t>(info[0].As<Napi::Number>().Int64Value()));
    return info.Env().Undefined();
  }

  Napi::Value SetIsa(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), engine().set_isa(info[0].As<Napi::String>().Utf8Value()));
  }

  Napi::Value ProbeRead(const Napi::CallbackInfo& info) {
    TensorList own;
    const TensorList& list = unpack(info.Env(), info[0], &own);
    return Napi::Number::New(info.Env(), static_cast<double>(engine().probe_read(list) & 0xffff));
  }

  Napi::Value SetParallelThreshold(const Napi::CallbackInfo& info) {
    engine().set_parallel_threshold(static_cast<std::size_t>(info[0].As<Napi::Number>().Int64Value()));
    return info.Env().Undefined();
  }
};

}  // namespace
}  // namespace gradclip

using GradclipAddon = gradclip::Addon;
NODE_API_ADDON(GradclipAddon)
