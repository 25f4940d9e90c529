// A/B probe: oneDNN 3x3 conv forward + backward data + backward weights(+bias), NCHW plain memory in and out,
// internal layouts chosen by oneDNN ("any") with reorders counted, as a framework would call it.
#include <oneapi/dnnl/dnnl.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>
using namespace dnnl;
using tag = memory::format_tag; using dt = memory::data_type;
static double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
int main(int argc, char** argv) {
  int N = atoi(argv[1]), C = atoi(argv[2]), K = atoi(argv[3]), S = atoi(argv[4]), reps = atoi(argv[5]);
  bool plain = argc > 6 && argv[6][0] == 'p';
  engine eng(engine::kind::cpu, 0); stream st(eng);
  memory::dims src{N, C, S, S}, wei{K, C, 3, 3}, bia{K}, dst{N, K, S, S}, strides{1, 1}, pad{1, 1};
  auto any = plain ? tag::nchw : tag::any, anyw = plain ? tag::oihw : tag::any;
  auto src_md = memory::desc(src, dt::f32, any), wei_md = memory::desc(wei, dt::f32, anyw),
       dst_md = memory::desc(dst, dt::f32, any), bia_md = memory::desc(bia, dt::f32, tag::x);
  auto fwd_d = convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src_md, wei_md, bia_md, dst_md, strides, pad, pad);
  auto fwd_pd = convolution_forward::primitive_desc(fwd_d, eng);
  auto bwdd_d = convolution_backward_data::desc(algorithm::convolution_direct, src_md, wei_md, dst_md, strides, pad, pad);
  auto bwdd_pd = convolution_backward_data::primitive_desc(bwdd_d, eng, fwd_pd);
  auto bwdw_d = convolution_backward_weights::desc(algorithm::convolution_direct, src_md, wei_md, bia_md, dst_md, strides, pad, pad);
  auto bwdw_pd = convolution_backward_weights::primitive_desc(bwdw_d, eng, fwd_pd);
  std::vector<float> x(N*C*S*S), w(K*C*9), b(K), y(N*K*S*S), gy(N*K*S*S), gx(N*C*S*S), gw(K*C*9), gb(K);
  for (auto& v : x) v = rand() / (float)RAND_MAX - 0.5f; for (auto& v : w) v = rand() / (float)RAND_MAX - 0.5f;
  for (auto& v : gy) v = rand() / (float)RAND_MAX - 0.5f;
  memory ux({src, dt::f32, tag::nchw}, eng, x.data()), uw({wei, dt::f32, tag::oihw}, eng, w.data()), ub({bia, dt::f32, tag::x}, eng, b.data()),
         uy({dst, dt::f32, tag::nchw}, eng, y.data()), ugy({dst, dt::f32, tag::nchw}, eng, gy.data()), ugx({src, dt::f32, tag::nchw}, eng, gx.data()),
         ugw({wei, dt::f32, tag::oihw}, eng, gw.data()), ugb({bia, dt::f32, tag::x}, eng, gb.data());
  auto conv_fwd = convolution_forward(fwd_pd); auto conv_bd = convolution_backward_data(bwdd_pd); auto conv_bw = convolution_backward_weights(bwdw_pd);
  auto M = [&](memory::desc d) { return memory(d, eng); };
  memory fx = M(fwd_pd.src_desc()), fw = M(fwd_pd.weights_desc()), fy = M(fwd_pd.dst_desc());
  memory bgy = M(bwdd_pd.diff_dst_desc()), bw = M(bwdd_pd.weights_desc()), bgx = M(bwdd_pd.diff_src_desc());
  memory wx = M(bwdw_pd.src_desc()), wgy = M(bwdw_pd.diff_dst_desc()), wgw = M(bwdw_pd.diff_weights_desc());
  auto step = [&]() {
    reorder(ux, fx).execute(st, ux, fx); reorder(uw, fw).execute(st, uw, fw);
    conv_fwd.execute(st, {{DNNL_ARG_SRC, fx}, {DNNL_ARG_WEIGHTS, fw}, {DNNL_ARG_BIAS, ub}, {DNNL_ARG_DST, fy}});
    reorder(fy, uy).execute(st, fy, uy);
    reorder(ugy, bgy).execute(st, ugy, bgy); reorder(uw, bw).execute(st, uw, bw);
    conv_bd.execute(st, {{DNNL_ARG_DIFF_DST, bgy}, {DNNL_ARG_WEIGHTS, bw}, {DNNL_ARG_DIFF_SRC, bgx}});
    reorder(bgx, ugx).execute(st, bgx, ugx);
    reorder(ux, wx).execute(st, ux, wx); reorder(ugy, wgy).execute(st, ugy, wgy);
    conv_bw.execute(st, {{DNNL_ARG_SRC, wx}, {DNNL_ARG_DIFF_DST, wgy}, {DNNL_ARG_DIFF_WEIGHTS, wgw}, {DNNL_ARG_DIFF_BIAS, ugb}});
    reorder(wgw, ugw).execute(st, wgw, ugw);
    st.wait();
  };
  step(); step();
  double best = 1e9;
  for (int r = 0; r < reps; r++) { double t = now(); step(); best = std::min(best, now() - t); }
  double flops = 6.0 * N * K * C * 9 * S * S;
  printf("%s N%d c%d->%d %dx%d: %.3f ms, %.1f GFLOP/s  (%s)\n", plain ? "plain" : "any", N, C, K, S, S, best * 1e3, flops / best / 1e9, fwd_pd.impl_info_str());
}
