// Loop plans of expressions of one to eight leaves.
#include "dendrite/expr/layout.hpp"

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::expr {

template loop_plan<1> plan_loop<1>(const shape&, const std::array<const shape*, 1>&,
                                   const std::array<const strides_t*, 1>&, bool);
template loop_plan<2> plan_loop<2>(const shape&, const std::array<const shape*, 2>&,
                                   const std::array<const strides_t*, 2>&, bool);
template loop_plan<3> plan_loop<3>(const shape&, const std::array<const shape*, 3>&,
                                   const std::array<const strides_t*, 3>&, bool);
template loop_plan<4> plan_loop<4>(const shape&, const std::array<const shape*, 4>&,
                                   const std::array<const strides_t*, 4>&, bool);
template loop_plan<5> plan_loop<5>(const shape&, const std::array<const shape*, 5>&,
                                   const std::array<const strides_t*, 5>&, bool);
template loop_plan<6> plan_loop<6>(const shape&, const std::array<const shape*, 6>&,
                                   const std::array<const strides_t*, 6>&, bool);
template loop_plan<7> plan_loop<7>(const shape&, const std::array<const shape*, 7>&,
                                   const std::array<const strides_t*, 7>&, bool);
template loop_plan<8> plan_loop<8>(const shape&, const std::array<const shape*, 8>&,
                                   const std::array<const strides_t*, 8>&, bool);

}  // namespace dendrite::inline DENDRITE_TARGET::expr
