/* The Hines tree solve of tree_solve.py as one XLA FFI call on CPU.
 *
 * Same arithmetic in the same order as the "loop" strategy (elimination
 * leaves-to-root over `order`, then substitution root-to-leaves), so the
 * results are bitwise equal to it.  XLA's CPU code fuses a multiply and an add
 * into one FMA where the CPU has one, so this is built with -ffp-contract=fast
 * and its x86-64 clones (v4: AVX-512, v3: AVX2) all have FMA; without FMA
 * neither side fuses.
 *
 * Arguments: order (n,) int32, parent (n,) int32 (rows past the first, from
 * vmap's broadcasting, are not read); off (L or 1, n, C or 1); diag and
 * rhs (L, n, C), L the product of the leading (vmapped) dimensions, the
 * cells (columns) contiguous.  Results: x (L, n, C), and a work buffer of
 * the same shape for the eliminated diagonal.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xla/ffi/api/c_api.h"

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

#define DEFINE_SOLVE(NAME, T)                                                             \
  CLONES static void NAME(int64_t L, int64_t n, int64_t C, const int32_t *order,          \
                          const int32_t *parent, const T *off, int64_t off_l,             \
                          int64_t off_c, const T *diag, const T *rhs, T *x, T *d) {       \
    for (int64_t l = 0; l < L; ++l) {                                                     \
      const T *o = off + (off_l > 1 ? l * n * off_c : 0);                                 \
      T *dl = d + l * n * C, *xl = x + l * n * C;                                         \
      memcpy(dl, diag + l * n * C, (size_t)(n * C) * sizeof(T));                        \
      memcpy(xl, rhs + l * n * C, (size_t)(n * C) * sizeof(T));                         \
      for (int64_t k = 0; k < n - 1; ++k) { /* elimination; x holds the rhs */            \
        const int64_t i = order[n - 1 - k], p = parent[i];                                \
        const T *oi = o + i * off_c, *di = dl + i * C, *bi = xl + i * C;                  \
        T *dp = dl + p * C, *bp = xl + p * C;                                             \
        for (int64_t c = 0; c < C; ++c) {                                                 \
          const T oc = oi[off_c > 1 ? c : 0];                                             \
          const T f = oc / di[c];                                                         \
          dp[c] = dp[c] + -f * oc;                                                        \
          bp[c] = bp[c] + -f * bi[c];                                                     \
        }                                                                                 \
      }                                                                                   \
      const int64_t r = order[0];                                                         \
      for (int64_t c = 0; c < C; ++c) xl[r * C + c] = xl[r * C + c] / dl[r * C + c];      \
      for (int64_t k = 1; k < n; ++k) { /* substitution, in place */                     \
        const int64_t i = order[k], p = parent[i];                                        \
        const T *oi = o + i * off_c, *di = dl + i * C, *xp = xl + p * C;                  \
        T *xi = xl + i * C;                                                               \
        for (int64_t c = 0; c < C; ++c)                                                   \
          xi[c] = (xi[c] - oi[off_c > 1 ? c : 0] * xp[c]) / di[c];                        \
      }                                                                                   \
    }                                                                                     \
  }

DEFINE_SOLVE(solve_f64, double)
DEFINE_SOLVE(solve_f32, float)

static XLA_FFI_Error *fail(const XLA_FFI_Api *api, const char *message) {
  XLA_FFI_Error_Create_Args args;
  memset(&args, 0, sizeof args);
  args.struct_size = XLA_FFI_Error_Create_Args_STRUCT_SIZE;
  args.message = message;
  args.errc = XLA_FFI_Error_Code_INVALID_ARGUMENT;
  return api->XLA_FFI_Error_Create(&args);
}

static int64_t leading(const XLA_FFI_Buffer *b) {
  int64_t m = 1;
  for (int64_t k = 0; k + 2 < b->rank; ++k) m *= b->dims[k];
  return m;
}

XLA_FFI_Error *hnnjax_hines(XLA_FFI_CallFrame *frame) {
  if (frame->extension_start != NULL &&
      frame->extension_start->type == XLA_FFI_Extension_Metadata) {
    XLA_FFI_Metadata_Extension *ext = (XLA_FFI_Metadata_Extension *)frame->extension_start;
    ext->metadata->api_version.struct_size = XLA_FFI_Api_Version_STRUCT_SIZE;
    ext->metadata->api_version.extension_start = NULL;
    ext->metadata->api_version.major_version = XLA_FFI_API_MAJOR;
    ext->metadata->api_version.minor_version = XLA_FFI_API_MINOR;
    ext->metadata->traits = 0;
    if (ext->metadata->struct_size >=
        offsetof(XLA_FFI_Metadata, state_type_id) + sizeof(XLA_FFI_TypeId))
      ext->metadata->state_type_id.type_id = 0; /* stateless (XLA_FFI_UNKNOWN_TYPE_ID) */
    return NULL;
  }
  if (frame->stage != XLA_FFI_ExecutionStage_EXECUTE) return NULL;
  if (frame->args.size != 5 || frame->rets.size != 2)
    return fail(frame->api, "hnnjax_hines: expected 5 arguments and 2 results");
  XLA_FFI_Buffer **a = (XLA_FFI_Buffer **)frame->args.args;
  XLA_FFI_Buffer **r = (XLA_FFI_Buffer **)frame->rets.rets;
  const XLA_FFI_Buffer *off = a[2], *diag = a[3], *rhs = a[4];
  if (diag->rank < 2 || off->rank != diag->rank || rhs->rank != diag->rank)
    return fail(frame->api, "hnnjax_hines: off, diag and rhs must be (..., n, C) of one rank");
  const int64_t n = diag->dims[diag->rank - 2], C = diag->dims[diag->rank - 1];
  const int64_t L = leading(diag), off_l = leading(off), off_c = off->dims[off->rank - 1];
  if (a[0]->dims[a[0]->rank - 1] != n || off->dims[off->rank - 2] != n || leading(rhs) != L ||
      rhs->dims[rhs->rank - 1] != C || (off_l != 1 && off_l != L) || (off_c != 1 && off_c != C))
    return fail(frame->api, "hnnjax_hines: shapes of order, off, diag and rhs do not agree");
  if (diag->dtype != off->dtype || rhs->dtype != diag->dtype || r[0]->dtype != diag->dtype)
    return fail(frame->api, "hnnjax_hines: off, diag, rhs and x must share one dtype");
  if (n == 0 || L * C == 0) return NULL;
  const int32_t *order = (const int32_t *)a[0]->data, *parent = (const int32_t *)a[1]->data;
  if (diag->dtype == XLA_FFI_DataType_F64)
    solve_f64(L, n, C, order, parent, (const double *)off->data, off_l, off_c,
              (const double *)diag->data, (const double *)rhs->data, (double *)r[0]->data,
              (double *)r[1]->data);
  else if (diag->dtype == XLA_FFI_DataType_F32)
    solve_f32(L, n, C, order, parent, (const float *)off->data, off_l, off_c,
              (const float *)diag->data, (const float *)rhs->data, (float *)r[0]->data,
              (float *)r[1]->data);
  else
    return fail(frame->api, "hnnjax_hines: dtype must be float32 or float64");
  return NULL;
}
