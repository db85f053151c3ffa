#include <catch2/catch.hpp>

#include "../data/temp_dir.hpp"
#include "dendrite/io/checkpoint.hpp"
#include "dendrite/tensor/random.hpp"

using namespace dendrite;
using Catch::Matchers::Contains;

TEST_CASE("parameters round-trip through a checkpoint, in place", "[io][checkpoint]") {
    test_support::temp_dir dir;
    rng g(9);
    nn::parameter_list<float> params{nn::parameter<float>(shape{4, 3}, "dense_1.weight"),
                                     nn::parameter<float>(shape{3}, "dense_1.bias", false)};
    params[0].value = normal<float>({4, 3}, 0, 1, g);
    params[1].value.fill(0.5f);
    io::save_parameters(dir / "ckpt.safetensors", params, {{"epoch", "3"}});

    nn::parameter_list<float> fresh{nn::parameter<float>(shape{4, 3}, "dense_1.weight"),
                                    nn::parameter<float>(shape{3}, "dense_1.bias", false)};
    const tensor<float> layer_view = fresh[0].value;  // what a layer holds: the same storage
    const io::metadata_map meta = io::load_parameters(dir / "ckpt.safetensors", fresh);
    CHECK(meta.at("epoch") == "3");
    CHECK(layer_view(2, 1) == params[0].value(2, 1));
    CHECK(fresh[1].value(2) == 0.5f);

    nn::parameter_list<float> wrong_shape{nn::parameter<float>(shape{3, 4}, "dense_1.weight")};
    CHECK_THROWS_WITH(
        io::load_parameters(dir / "ckpt.safetensors", wrong_shape),
        Contains("parameter 'dense_1.weight' has shape [4, 3] in the file, [3, 4] in the model"));
    nn::parameter_list<double> wrong_type{nn::parameter<double>(shape{3}, "dense_1.bias")};
    CHECK_THROWS_WITH(io::load_parameters(dir / "ckpt.safetensors", wrong_type),
                      Contains("has dtype F32 in the file, F64 in the model"));
    nn::parameter_list<float> missing{nn::parameter<float>(shape{3}, "dense_2.bias")};
    CHECK_THROWS_WITH(io::load_parameters(dir / "ckpt.safetensors", missing),
                      Contains("'dense_2.bias' is not in the file"));
}
