// White-box tests of the snapshot's inspector pool (inspect/detail): an
// inspector is reused for the next message of the same snapshot and never
// shared by two messages at once.
#include "inspect/detail/inspector_pool.hpp"

#include <gtest/gtest.h>

#include "config/config.hpp"

namespace cordon::inspect::detail {
namespace {

constexpr std::string_view kConfig = R"yaml(
data_dir: /nonexistent
policies:
  - name: Cards
    match: {any: [{identifier: credit_card}]}
    respond:
      - block: "Card numbers may not be sent."
)yaml";

TEST(InspectorPool, ReusesAnEvaluatorForTheSameSnapshotOnly) {
  auto a = config::load_config_text(kConfig, "a.yaml");
  auto b = config::load_config_text(kConfig, "b.yaml");
  ASSERT_TRUE(a && b);
  InspectorPool pool((*a)->policy_set, (*a)->attachments);
  InspectorPool other_pool((*b)->policy_set, (*b)->attachments);
  policy::Evaluator* first = nullptr;
  {
    auto lease = pool.acquire();
    first = &lease->evaluator;
  }
  {
    auto lease = pool.acquire();
    EXPECT_EQ(&lease->evaluator, first);
    auto second = pool.acquire();
    EXPECT_NE(&second->evaluator, first);
  }
  auto other = other_pool.acquire();
  EXPECT_EQ(other->evaluator.policy_set(), (*b)->policy_set);
  EXPECT_NE(&other->evaluator, first);
}

TEST(InspectorPool, EveryInspectorHasAnExtractorOrSaysWhyNot) {
  auto a = config::load_config_text(kConfig, "a.yaml");
  ASSERT_TRUE(a);
  InspectorPool pool((*a)->policy_set, (*a)->attachments);
  auto lease = pool.acquire();
  EXPECT_TRUE(lease->extractor.has_value() != !lease->extractor_error.empty());
}

}  // namespace
}  // namespace cordon::inspect::detail
